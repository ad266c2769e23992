import { describe, expect, it } from 'vitest'
import {
  awaitRateLimitWindowRoom,
  call,
  createKey,
  errorOf,
  fetcherWith,
  signup,
} from '../../test/helpers'

describe('rate limits (per key and per user, by plan)', () => {
  it('lets exactly the limit through under concurrent calls, then 429 with Retry-After', async () => {
    const fetcher = fetcherWith({ RATE_LIMIT_PER_MINUTE_FREE: '7' })
    const a = await signup('rl', {}, fetcher)
    const key = await createKey(a.token, ['embeddings'], fetcher)
    await awaitRateLimitWindowRoom()
    const results = await Promise.all(
      Array.from({ length: 20 }, () => call('/v1/me', { token: key.key }, fetcher)),
    )
    const ok = results.filter((r) => r.status === 200)
    const limited = results.filter((r) => r.status === 429)
    expect(ok).toHaveLength(7)
    expect(limited).toHaveLength(13)
    expect(ok.map((r) => Number(r.res.headers.get('RateLimit-Remaining'))).sort()).toEqual([
      0, 1, 2, 3, 4, 5, 6,
    ])
    for (const r of results) expect(r.res.headers.get('RateLimit-Limit')).toBe('7')
    for (const r of limited) {
      expect(errorOf(r)).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' })
      const retryAfter = Number(r.res.headers.get('Retry-After'))
      expect(retryAfter).toBeGreaterThanOrEqual(1)
      expect(retryAfter).toBeLessThanOrEqual(60)
      expect(r.res.headers.get('RateLimit-Remaining')).toBe('0')
      expect(r.res.headers.get('RateLimit-Reset')).toBe(String(retryAfter))
    }
    // Another key of the same workspace has its own budget; the session user has theirs.
    const other = await createKey(a.token, ['embeddings'], fetcher)
    expect((await call('/v1/me', { token: other.key }, fetcher)).status).toBe(200)
  })

  it('counts a user across their session tokens', async () => {
    const fetcher = fetcherWith({ RATE_LIMIT_PER_MINUTE_FREE: '4' })
    const a = await signup('rluser', {}, fetcher) // signup itself is not counted
    const second = await call(
      '/v1/auth/login',
      { method: 'POST', json: { email: a.email, password: 'correct horse battery staple' } },
      fetcher,
    )
    const tokens = [a.token, second.body.session.token]
    await awaitRateLimitWindowRoom()
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call('/v1/me', { token: tokens[i % 2] }, fetcher)),
    )
    expect(results.filter((r) => r.status === 200)).toHaveLength(4)
  })

  it('uses the workspace plan for the limit', async () => {
    const fetcher = fetcherWith({ RATE_LIMIT_PER_MINUTE_FREE: '3', RATE_LIMIT_PER_MINUTE_PRO: '9' })
    const a = await signup('rlplan', {}, fetcher)
    const { testDb } = await import('../../test/helpers')
    const { eq, workspaces } = await import('@synthstack/db')
    await testDb().update(workspaces).set({ plan: 'pro' }).where(eq(workspaces.id, a.workspaceId))
    const r = await call('/v1/me', { token: a.token }, fetcher)
    expect(r.res.headers.get('RateLimit-Limit')).toBe('9')
  })
})
