import { env } from 'cloudflare:test'
import { sessions, sql } from '@synthstack/db'
import { Redis } from '@upstash/redis/cloudflare'
import { describe, expect, it } from 'vitest'
import {
  awaitRateLimitWindowRoom,
  call,
  createKey,
  errorOf,
  fetcherWith,
  signup,
  testDb,
} from '../../test/helpers'
import { memberCacheKey, sessionCacheKey } from './cache'
import { sha256Hex } from './crypto'

// The bench routes: auth (+ rate limit) and nothing else, so what they answer is auth's alone.
const worker = fetcherWith({ BENCH_ROUTES: 'true' })
const redis = new Redis({
  url: env.UPSTASH_REDIS_REST_URL,
  token: env.UPSTASH_REDIS_REST_TOKEN,
  enableTelemetry: false,
})

describe('auth cache (hot path without Postgres)', () => {
  it('serves a warm session from Redis; logout is still immediate', async () => {
    const a = await signup('cache-logout')
    const hash = await sha256Hex(a.token)
    // both counted calls in one minute window, so the remaining count is exact
    await awaitRateLimitWindowRoom()
    expect((await call('/_bench/auth-limit', { token: a.token }, worker)).status).toBe(200)
    expect(await redis.get(sessionCacheKey(hash))).toMatchObject({ userId: a.userId })
    expect(await redis.get(memberCacheKey(a.workspaceId, a.userId))).toEqual({
      role: 'owner',
      plan: 'free',
    })
    // Proof that the steady state does not read Postgres: a row removed behind the API's back
    // (not through logout) is still honoured from the cache entry.
    await testDb().delete(sessions).where(sql`${sessions.tokenHash} = ${hash}`)
    const warm = await call('/_bench/auth-limit', { token: a.token }, worker)
    expect(warm.status).toBe(200)
    expect(warm.res.headers.get('RateLimit-Remaining')).toBe('58')

    const b = await signup('cache-logout-b')
    expect((await call('/_bench/auth-limit', { token: b.token }, worker)).status).toBe(200)
    const out = await call('/v1/auth/logout', { method: 'POST', token: b.token }, worker)
    expect(out.status).toBe(204)
    expect(await redis.get(sessionCacheKey(await sha256Hex(b.token)))).toEqual({ stale: true })
    const after = await call('/_bench/auth-limit', { token: b.token }, worker)
    expect(after.status).toBe(401)
    expect(errorOf(after).code).toBe('invalid_session')
  })

  it('applies a role change and a removal on the next request despite a warm cache', async () => {
    const owner = await signup('cache-owner')
    const member = await signup('cache-member')
    const base = `/v1/workspaces/${owner.workspaceId}/members`
    const added = await call(
      base,
      { method: 'POST', token: owner.token, json: { email: member.email, role: 'member' } },
      worker,
    )
    expect(added.status).toBe(201)
    const inOwners = { token: member.token, headers: { 'X-Workspace-Id': owner.workspaceId } }
    // Members may not list API keys; admins may. Warm the cache as a member first.
    expect((await call('/_bench/auth-limit', inOwners, worker)).status).toBe(200)
    expect(await redis.get(memberCacheKey(owner.workspaceId, member.userId))).toMatchObject({
      role: 'member',
    })
    const promoted = await call(
      `${base}/${member.userId}`,
      { method: 'PATCH', token: owner.token, json: { role: 'admin' } },
      worker,
    )
    expect(promoted.status).toBe(200)
    const me = await call('/v1/me', inOwners, worker)
    expect(me.body.role).toBe('admin')

    const removed = await call(
      `${base}/${member.userId}`,
      { method: 'DELETE', token: owner.token },
      worker,
    )
    expect(removed.status).toBe(204)
    const gone = await call('/_bench/auth-limit', inOwners, worker)
    expect(gone.status).toBe(404)
    expect(errorOf(gone).code).toBe('workspace_not_found')
    // Their own workspace still works.
    expect((await call('/_bench/auth-limit', { token: member.token }, worker)).status).toBe(200)
  })

  it('serves a warm API key from Redis and counts it in the same round trip', async () => {
    const a = await signup('cache-key')
    const key = await createKey(a.token, ['chat'])
    await awaitRateLimitWindowRoom()
    const first = await call('/_bench/auth-limit', { token: key.key }, worker)
    expect(first.status).toBe(200)
    const second = await call('/_bench/auth-limit', { token: key.key }, worker)
    expect(second.status).toBe(200)
    expect(second.res.headers.get('RateLimit-Remaining')).toBe('58')
    const bad = await call('/_bench/auth-limit', { token: `${key.key.slice(0, -2)}xx` }, worker)
    expect(bad.status).toBe(401)
    expect(JSON.stringify(bad.body)).not.toContain(key.key.slice(8))
  })
})
