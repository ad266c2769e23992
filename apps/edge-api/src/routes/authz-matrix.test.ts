import { sessions, sql } from '@synthstack/db'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  type Account,
  call,
  createKey,
  errorOf,
  PASSWORD,
  signup,
  testDb,
} from '../../test/helpers'
import { sha256Hex } from '../auth/crypto'

/**
 * The authorisation matrix: every protected route against no credentials, an expired session,
 * a revoked key, a key without the needed scope, a member where admin is needed, and another
 * workspace's id (404, never their data).
 */
interface Ctx {
  a: Account
  b: Account
  member: Account
  expired: string
  revokedKey: string
  chatKey: string
  fullKey: string
  aKeyId: string
  bKeyId: string
  aInvitationId: string
  bInvitationId: string
}

interface RouteCase {
  name: string
  method: string
  path: (x: Ctx) => string
  body?: (x: Ctx) => unknown
  /** The scope an API key needs; 'session' when keys are refused altogether. */
  needs: 'admin' | 'embeddings' | 'session' | null
  adminRole: boolean
  /** How to point the request at workspace B. */
  other: (x: Ctx) => { path: string; headers?: Record<string, string> }
}

const header = (x: Ctx) => ({ 'X-Workspace-Id': x.b.workspaceId })
const same = (path: (x: Ctx) => string) => (x: Ctx) => ({ path: path(x), headers: header(x) })
const ws = (_x: Ctx, id: string, rest = '') => `/v1/workspaces/${id}${rest}`

const routes: RouteCase[] = [
  {
    name: 'GET /v1/me',
    method: 'GET',
    path: () => '/v1/me',
    needs: null,
    adminRole: false,
    other: same(() => '/v1/me'),
  },
  {
    name: 'GET /v1/workspaces',
    method: 'GET',
    path: () => '/v1/workspaces',
    needs: 'session',
    adminRole: false,
    other: same(() => '/v1/workspaces'),
  },
  {
    name: 'POST /v1/workspaces',
    method: 'POST',
    path: () => '/v1/workspaces',
    body: () => ({ name: 'n' }),
    needs: 'session',
    adminRole: false,
    other: same(() => '/v1/workspaces'),
  },
  {
    name: 'GET /v1/workspaces/{id}',
    method: 'GET',
    path: (x) => ws(x, x.a.workspaceId),
    needs: null,
    adminRole: false,
    other: (x) => ({ path: ws(x, x.b.workspaceId) }),
  },
  {
    name: 'PATCH /v1/workspaces/{id}',
    method: 'PATCH',
    path: (x) => ws(x, x.a.workspaceId),
    body: () => ({ name: 'renamed' }),
    needs: 'admin',
    adminRole: true,
    other: (x) => ({ path: ws(x, x.b.workspaceId) }),
  },
  {
    name: 'GET /v1/workspaces/{id}/members',
    method: 'GET',
    path: (x) => ws(x, x.a.workspaceId, '/members'),
    needs: null,
    adminRole: false,
    other: (x) => ({ path: ws(x, x.b.workspaceId, '/members') }),
  },
  {
    name: 'POST /v1/workspaces/{id}/members',
    method: 'POST',
    path: (x) => ws(x, x.a.workspaceId, '/members'),
    body: () => ({ email: `inv-${crypto.randomUUID().slice(0, 6)}@example.com` }),
    needs: 'admin',
    adminRole: true,
    other: (x) => ({ path: ws(x, x.b.workspaceId, '/members') }),
  },
  {
    name: 'PATCH /v1/workspaces/{id}/members/{user}',
    method: 'PATCH',
    path: (x) => ws(x, x.a.workspaceId, `/members/${x.member.userId}`),
    body: () => ({ role: 'member' }),
    needs: 'admin',
    adminRole: true,
    other: (x) => ({ path: ws(x, x.b.workspaceId, `/members/${x.b.userId}`) }),
  },
  {
    name: 'DELETE /v1/workspaces/{id}/members/{user}',
    method: 'DELETE',
    path: (x) => ws(x, x.a.workspaceId, `/members/${x.a.userId}`),
    needs: 'admin',
    adminRole: true,
    other: (x) => ({ path: ws(x, x.b.workspaceId, `/members/${x.b.userId}`) }),
  },
  {
    name: 'DELETE /v1/workspaces/{id}/invitations/{invitation}',
    method: 'DELETE',
    path: (x) => ws(x, x.a.workspaceId, `/invitations/${x.aInvitationId}`),
    needs: 'admin',
    adminRole: true,
    other: (x) => ({ path: ws(x, x.b.workspaceId, `/invitations/${x.bInvitationId}`) }),
  },
  {
    name: 'POST /v1/api-keys',
    method: 'POST',
    path: () => '/v1/api-keys',
    body: () => ({ name: 'k', scopes: ['chat'] }),
    needs: 'admin',
    adminRole: true,
    other: same(() => '/v1/api-keys'),
  },
  {
    name: 'GET /v1/api-keys',
    method: 'GET',
    path: () => '/v1/api-keys',
    needs: 'admin',
    adminRole: true,
    other: same(() => '/v1/api-keys'),
  },
  {
    name: 'GET /v1/api-keys/{id}',
    method: 'GET',
    path: (x) => `/v1/api-keys/${x.aKeyId}`,
    needs: 'admin',
    adminRole: true,
    other: (x) => ({ path: `/v1/api-keys/${x.bKeyId}` }),
  },
  {
    name: 'DELETE /v1/api-keys/{id}',
    method: 'DELETE',
    path: (x) => `/v1/api-keys/${x.aKeyId}`,
    needs: 'admin',
    adminRole: true,
    other: (x) => ({ path: `/v1/api-keys/${x.bKeyId}` }),
  },
  {
    name: 'GET /v1/usage',
    method: 'GET',
    path: () => '/v1/usage',
    needs: 'admin',
    adminRole: false,
    other: same(() => '/v1/usage'),
  },
  {
    name: 'POST /v1/embeddings',
    method: 'POST',
    path: () => '/v1/embeddings',
    body: () => ({ model: 'use-lite-512', input: 'x' }),
    needs: 'embeddings',
    adminRole: false,
    other: same(() => '/v1/embeddings'),
  },
  // Last: its member case signs the member out.
  {
    name: 'POST /v1/auth/logout',
    method: 'POST',
    path: () => '/v1/auth/logout',
    needs: 'session',
    adminRole: false,
    other: same(() => '/v1/auth/logout'),
  },
]

let x: Ctx

beforeAll(async () => {
  const [a, b, member] = await Promise.all([signup('mx-a'), signup('mx-b'), signup('mx-m')])
  const added = await call(`/v1/workspaces/${a.workspaceId}/members`, {
    method: 'POST',
    token: a.token,
    json: { email: member.email, role: 'member' },
  })
  expect(added.status).toBe(201)
  const invite = async (owner: Account) => {
    const r = await call(`/v1/workspaces/${owner.workspaceId}/members`, {
      method: 'POST',
      token: owner.token,
      json: { email: `inv-${crypto.randomUUID().slice(0, 6)}@example.com` },
    })
    expect(r.status).toBe(202)
    return r.body.id as string
  }
  const [aInvitationId, bInvitationId] = await Promise.all([invite(a), invite(b)])
  const login = await call('/v1/auth/login', {
    method: 'POST',
    json: { email: a.email, password: PASSWORD },
  })
  const expired = login.body.session.token as string
  await testDb()
    .update(sessions)
    .set({ expiresAt: new Date(Date.now() - 1000) })
    .where(sql`${sessions.tokenHash} = ${await sha256Hex(expired)}`)
  const all = ['chat', 'embeddings', 'knowledge:read', 'knowledge:write', 'jobs', 'admin']
  const [revoked, chat, full, aKey, bKey] = await Promise.all([
    createKey(a.token, all),
    createKey(a.token, ['chat']),
    createKey(a.token, all),
    createKey(a.token, ['chat']),
    createKey(b.token, ['chat']),
  ])
  expect(
    (await call(`/v1/api-keys/${revoked.id}`, { method: 'DELETE', token: a.token })).status,
  ).toBe(200)
  x = {
    a,
    b,
    member: { ...member, workspaceId: a.workspaceId },
    expired,
    revokedKey: revoked.key,
    chatKey: chat.key,
    fullKey: full.key,
    aKeyId: aKey.id,
    bKeyId: bKey.id,
    aInvitationId,
    bInvitationId,
  }
})

const send = (
  route: RouteCase,
  init: { token?: string; headers?: Record<string, string>; path?: string } = {},
) =>
  call(init.path ?? route.path(x), {
    method: route.method,
    ...(init.token ? { token: init.token } : {}),
    ...(init.headers ? { headers: init.headers } : {}),
    ...(route.body ? { json: route.body(x) } : {}),
  })

describe.each(routes)('$name', (route) => {
  it('401 without credentials', async () => {
    const r = await send(route)
    expect(r.status).toBe(401)
    expect(errorOf(r)).toMatchObject({ type: 'authentication_error', code: 'missing_credentials' })
  })

  it('401 with an expired session', async () => {
    const r = await send(route, { token: x.expired })
    expect(r.status).toBe(401)
    expect(errorOf(r).code).toBe('session_expired')
  })

  it('401 with a revoked key (403 where keys are refused)', async () => {
    const r = await send(route, { token: x.revokedKey })
    if (route.needs === 'session') {
      expect(r.status).toBe(403)
      expect(errorOf(r).code).toBe('session_required')
    } else {
      expect(r.status).toBe(401)
      expect(errorOf(r).code).toBe('api_key_revoked')
    }
  })

  it('403 for a key without the scope', async () => {
    const r = await send(route, { token: x.chatKey })
    if (route.needs === null) {
      expect(r.status).toBeLessThan(400)
    } else {
      expect(r.status).toBe(403)
      expect(errorOf(r).code).toBe(route.needs === 'session' ? 'session_required' : 'missing_scope')
    }
  })

  it('403 for a member where admin is needed', async () => {
    const r = await send(route, {
      token: x.member.token,
      headers: { 'X-Workspace-Id': x.a.workspaceId },
    })
    if (route.adminRole) {
      expect(r.status).toBe(403)
      expect(errorOf(r).code).toBe('insufficient_role')
    } else {
      expect(r.status).toBeLessThan(400)
    }
  })

  it("404 for another workspace's id, for sessions and keys", async () => {
    const target = route.other(x)
    const bySession = await send(route, {
      token: x.a.token,
      path: target.path,
      ...(target.headers ? { headers: target.headers } : {}),
    })
    expect(bySession.status).toBe(404)
    expect(JSON.stringify(bySession.body)).not.toContain(x.b.email)
    if (route.needs !== 'session') {
      const byKey = await send(route, {
        token: x.fullKey,
        path: target.path,
        ...(target.headers ? { headers: target.headers } : {}),
      })
      expect(byKey.status).toBe(404)
    }
  })
})
