import { apiKeys, eq } from '@synthstack/db'
import { describe, expect, it } from 'vitest'
import {
  call,
  createKey,
  errorOf,
  eventually,
  fetcherWith,
  signup,
  testDb,
} from '../../test/helpers'
import { sha256Hex } from '../auth/crypto'

describe('API keys', () => {
  it('creates a key shown once, stored as SHA-256 with a visible prefix', async () => {
    const a = await signup('keys')
    const r = await call('/v1/api-keys', {
      method: 'POST',
      token: a.token,
      json: { name: 'CI', scopes: ['embeddings', 'chat', 'chat'] },
    })
    expect(r.status).toBe(201)
    expect(r.res.headers.get('Cache-Control')).toBe('no-store')
    expect(r.body.key).toMatch(/^sk_live_[A-Za-z0-9_-]{32}$/)
    expect(r.body.prefix).toBe(r.body.key.slice(0, 14))
    expect(r.body).toMatchObject({
      object: 'api_key',
      name: 'CI',
      scopes: ['embeddings', 'chat'],
      last_used_at: null,
      revoked_at: null,
    })
    const [row] = await testDb().select().from(apiKeys).where(eq(apiKeys.id, r.body.id))
    expect(row?.keyHash).toBe(await sha256Hex(r.body.key))
    expect(JSON.stringify(row)).not.toContain(r.body.key)

    const list = await call('/v1/api-keys', { token: a.token })
    expect(list.status).toBe(200)
    expect(list.body.data.map((k: { id: string }) => k.id)).toEqual([r.body.id])
    expect(JSON.stringify(list.body)).not.toContain(r.body.key)
    const one = await call(`/v1/api-keys/${r.body.id}`, { token: a.token })
    expect(one.body.prefix).toBe(r.body.prefix)
    expect(one.body.key).toBeUndefined()
  })

  it('authenticates with the key (its workspace and scopes) and records last use', async () => {
    const a = await signup('keyuse')
    const key = await createKey(a.token, ['embeddings'])
    const me = await call('/v1/me', { token: key.key })
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({
      user: null,
      workspace: { id: a.workspaceId },
      role: 'member',
      scopes: ['embeddings'],
      auth_method: 'api_key',
      api_key_id: key.id,
    })
    const used = await eventually(async () => {
      const [row] = await testDb().select().from(apiKeys).where(eq(apiKeys.id, key.id))
      return row?.lastUsedAt
    })
    expect(Date.now() - used.getTime()).toBeLessThan(60_000)
  })

  it('a revoked key stops working at once, even when it was cached', async () => {
    const a = await signup('revoke')
    const key = await createKey(a.token, ['embeddings'])
    expect((await call('/v1/me', { token: key.key })).status).toBe(200) // now cached
    const revoked = await call(`/v1/api-keys/${key.id}`, { method: 'DELETE', token: a.token })
    expect(revoked.status).toBe(200)
    expect(revoked.body.revoked_at).toBeTruthy()
    const after = await call('/v1/me', { token: key.key })
    expect(after.status).toBe(401)
    expect(errorOf(after).code).toBe('api_key_revoked')
    // Idempotent, and gone from the default list.
    const again = await call(`/v1/api-keys/${key.id}`, { method: 'DELETE', token: a.token })
    expect(again.body.revoked_at).toBe(revoked.body.revoked_at)
    expect((await call('/v1/api-keys', { token: a.token })).body.data).toEqual([])
    const all = await call('/v1/api-keys?include_revoked=true', { token: a.token })
    expect(all.body.data).toHaveLength(1)
  })

  it('refuses expired, unknown and malformed keys', async () => {
    const a = await signup('expire')
    const past = await call('/v1/api-keys', {
      method: 'POST',
      token: a.token,
      json: { name: 'old', scopes: ['chat'], expires_at: '2001-01-01T00:00:00Z' },
    })
    expect(past.status).toBe(400)
    expect(errorOf(past).param).toBe('expires_at')
    const soon = await call('/v1/api-keys', {
      method: 'POST',
      token: a.token,
      json: {
        name: 'soon',
        scopes: ['chat'],
        expires_at: new Date(Date.now() + 60_000).toISOString(),
      },
    })
    await testDb()
      .update(apiKeys)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(apiKeys.id, soon.body.id))
    // A fresh fetcher: its own isolate-level state, and the cache entry holds the old expiry
    // only until the DB is read again; the expiry check runs on every request either way.
    const expired = await call('/v1/me', { token: soon.body.key }, fetcherWith({}))
    expect(expired.status).toBe(401)
    expect(errorOf(expired).code).toBe('api_key_expired')
    const unknown = await call('/v1/me', { token: 'sk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })
    expect(errorOf(unknown).code).toBe('invalid_api_key')
    expect(JSON.stringify(unknown.body)).not.toContain('sk_live_AAAA')
  })

  it.each([
    [{ scopes: ['chat'] }, 'name'],
    [{ name: 'x' }, 'scopes'],
    [{ name: 'x', scopes: [] }, 'scopes'],
    [{ name: 'x', scopes: ['root'] }, 'scopes.0'],
    [{ name: 'x', scopes: ['chat'], expires_at: 'tomorrow' }, 'expires_at'],
  ])('answers 400 naming the field for %j', async (json, param) => {
    const a = await signup('keybad')
    const r = await call('/v1/api-keys', { method: 'POST', token: a.token, json })
    expect(r.status).toBe(400)
    expect(errorOf(r).param).toBe(param)
  })

  it('answers 400 for a malformed key id and 404 for an unknown one', async () => {
    const a = await signup('keyid')
    const bad = await call('/v1/api-keys/not-a-uuid', { token: a.token })
    expect(bad.status).toBe(400)
    expect(errorOf(bad).param).toBe('key_id')
    const missing = await call(`/v1/api-keys/${crypto.randomUUID()}`, {
      method: 'DELETE',
      token: a.token,
    })
    expect(missing.status).toBe(404)
    expect(errorOf(missing).code).toBe('api_key_not_found')
  })

  it('keys keep working from Postgres when Redis is unreachable', async () => {
    const a = await signup('noredis')
    const key = await createKey(a.token, ['embeddings'])
    const r = await call(
      '/v1/me',
      { token: key.key },
      fetcherWith({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1' }),
    )
    expect(r.status).toBe(200)
    // Fail-open rate limit: no RateLimit headers when the limiter could not be asked.
    expect(r.res.headers.get('RateLimit-Limit')).toBeNull()
  })
})
