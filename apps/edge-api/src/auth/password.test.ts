import { describe, expect, it } from 'vitest'
import { parseConfig } from '../config'
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

  it('config caps the count at 100,000 and requires it in production', () => {
    const base = {
      DATABASE_URL: 'postgres://u:p@db.example/app',
      UPSTASH_REDIS_REST_URL: 'https://redis.example',
      UPSTASH_REDIS_REST_TOKEN: 'redis-token-abcdef',
      QSTASH_TOKEN: 'qstash-token-abcdef',
      QSTASH_CURRENT_SIGNING_KEY: 'sig_current_abcdef',
      QSTASH_NEXT_SIGNING_KEY: 'sig_next_abcdef',
    }
    expect(parseConfig(base).PASSWORD_PBKDF2_ITERATIONS).toBe(100_000)
    expect(() => parseConfig({ ...base, PASSWORD_PBKDF2_ITERATIONS: '100001' })).toThrow(
      'PASSWORD_PBKDF2_ITERATIONS must be at most 100000',
    )
    expect(() =>
      parseConfig({ ...base, ENVIRONMENT: 'production', PASSWORD_PBKDF2_ITERATIONS: '10000' }),
    ).toThrow('PASSWORD_PBKDF2_ITERATIONS must be 100000 in production')
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
