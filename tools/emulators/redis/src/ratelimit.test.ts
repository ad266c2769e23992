import { Ratelimit } from '@upstash/ratelimit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestEmulator, type TestEmulator } from './testing.js'

let t: TestEmulator

beforeAll(async () => {
  t = await startTestEmulator()
})

afterAll(async () => {
  await t.close()
})

type Limiter = ConstructorParameters<typeof Ratelimit>[0]['limiter']

function limiter(limiter: Limiter): Ratelimit {
  // No ephemeral cache: every call must reach the emulator.
  return new Ratelimit({ redis: t.redis, limiter, prefix: t.prefix(), ephemeralCache: false })
}

async function burst(ratelimit: Ratelimit, identifier: string, callers: number) {
  return Promise.all(Array.from({ length: callers }, () => ratelimit.limit(identifier)))
}

// Windows of an hour: a 30-caller burst never straddles a window boundary in practice.
describe('@upstash/ratelimit against the emulator', () => {
  it('sliding window: exactly 10 of 30 concurrent callers pass', async () => {
    const ratelimit = limiter(Ratelimit.slidingWindow(10, '1 h'))
    const results = await burst(ratelimit, 'user-1', 30)
    expect(results.filter((r) => r.success)).toHaveLength(10)
    expect(results.every((r) => r.limit === 10)).toBe(true)
    expect(
      results
        .filter((r) => r.success)
        .map((r) => r.remaining)
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect((await ratelimit.getRemaining('user-1')).remaining).toBe(0)
    // Another identifier has its own budget.
    expect((await ratelimit.limit('user-2')).success).toBe(true)
  })

  it('fixed window: exactly 10 of 30 concurrent callers pass', async () => {
    const ratelimit = limiter(Ratelimit.fixedWindow(10, '1 h'))
    const results = await burst(ratelimit, 'user-1', 30)
    expect(results.filter((r) => r.success)).toHaveLength(10)
    expect((await ratelimit.getRemaining('user-1')).remaining).toBe(0)
    await ratelimit.resetUsedTokens('user-1')
    expect((await ratelimit.limit('user-1')).success).toBe(true)
  })

  it('token bucket: exactly maxTokens of 30 concurrent callers pass, then refills', async () => {
    const ratelimit = limiter(Ratelimit.tokenBucket(1, '1 h', 10))
    const results = await burst(ratelimit, 'user-1', 30)
    expect(results.filter((r) => r.success)).toHaveLength(10)
    expect(
      results
        .filter((r) => r.success)
        .map((r) => r.remaining)
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect((await ratelimit.getRemaining('user-1')).remaining).toBe(0)

    const fast = limiter(Ratelimit.tokenBucket(3, '300 ms', 3))
    expect((await burst(fast, 'user-2', 6)).filter((r) => r.success)).toHaveLength(3)
    await new Promise((resolve) => setTimeout(resolve, 350))
    expect((await burst(fast, 'user-2', 6)).filter((r) => r.success)).toHaveLength(3)
  })
})
