import { describe, expect, it } from 'vitest'
import { timingSafeEqual } from './crypto'
import { hashPassword, needsRehash, PBKDF2_MAX_ITERATIONS, verifyPassword } from './password'

describe('PBKDF2-SHA256 passwords (WebCrypto in workerd)', () => {
  it('hashes with a per-user salt at the production count and verifies', async () => {
    const [a, b] = await Promise.all([
      hashPassword('hunter2 hunter2', PBKDF2_MAX_ITERATIONS),
      hashPassword('hunter2 hunter2', PBKDF2_MAX_ITERATIONS),
    ])
    expect(a).toMatch(/^pbkdf2_sha256\$100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    expect(a).not.toBe(b)
    expect(await verifyPassword('hunter2 hunter2', a)).toBe(true)
    expect(await verifyPassword('hunter2 hunter3', a)).toBe(false)
    expect(needsRehash(a, PBKDF2_MAX_ITERATIONS)).toBe(false)
    expect(needsRehash(a, 50_000)).toBe(true)
  })

  it('workerd refuses more than 100,000 iterations (why that is the maximum in config)', async () => {
    const key = await crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode('x'),
      'PBKDF2',
      false,
      ['deriveBits'],
    )
    await expect(
      crypto.subtle.deriveBits(
        { name: 'PBKDF2', hash: 'SHA-256', salt: new Uint8Array(16), iterations: 100_001 },
        key,
        256,
      ),
    ).rejects.toThrow(/100000/)
  })

  it('never matches a malformed or out-of-range stored hash', async () => {
    for (const stored of [
      '',
      'plain',
      'pbkdf2_sha256$0$aa$bb',
      'pbkdf2_sha256$200000$aa$bb',
      'md5$1$a$b',
    ]) {
      expect(await verifyPassword('anything', stored)).toBe(false)
    }
  })

  it('compares in constant time, by value and length', () => {
    expect(timingSafeEqual('abc', 'abc')).toBe(true)
    expect(timingSafeEqual('abc', 'abd')).toBe(false)
    expect(timingSafeEqual('abc', 'abcd')).toBe(false)
  })
})
