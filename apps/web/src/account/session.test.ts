import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { createApi } from '../api/client'
import { installAuthGuard } from '../router'
import { sendJson, startServer, type TestServer } from '../test-support/http-server'
import { rememberedWorkspace, STORAGE_KEY, type WorkspaceStorage } from '../workspaces/remembered'
import { createSession } from './session'

// A node:http stand-in for the auth routes; "signed in" is server state (Node has no cookie jar).
const ME = {
  user: { id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', email: 'ada@example.com', name: null },
  workspace: {
    id: '5b0b8a8e-8f4b-4a57-9a53-1f6f0d3c9a11',
    name: "ada's workspace",
    plan: 'free',
    created_at: '2026-05-01T00:00:00.000Z',
  },
  role: 'owner',
  scopes: ['admin'],
  auth_method: 'session_cookie',
  api_key_id: null,
}
// A second workspace ada belongs to, as a member.
const TEAM = {
  workspace: { ...ME.workspace, id: '0d6f2a4e-1c3b-4f5a-9e8d-7c6b5a4f3e2d', name: 'Team' },
  role: 'member',
}
const GONE = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'
const notFound = {
  error: {
    type: 'not_found_error',
    code: 'workspace_not_found',
    message: 'No such workspace.',
    param: 'workspace_id',
    request_id: 'r2',
  },
}
const unauthorized = {
  error: {
    type: 'authentication_error',
    code: 'missing_credentials',
    message: 'Authentication required',
    param: null,
    request_id: 'r1',
  },
}
let server: TestServer
let signedIn = false
let meCalls = 0
let meStatus: number | null = null
let meWorkspaces: unknown[] = []

beforeAll(async () => {
  server = await startServer((req, res, body) => {
    switch (`${req.method} ${req.url}`) {
      case 'GET /v1/me':
        meCalls++
        meWorkspaces.push(req.headers['x-workspace-id'])
        if (meStatus)
          return sendJson(res, meStatus, { error: { message: 'down', type: 'server_error' } })
        if (!signedIn) return sendJson(res, 401, unauthorized)
        switch (req.headers['x-workspace-id']) {
          case undefined:
          case ME.workspace.id:
            return sendJson(res, 200, ME)
          case TEAM.workspace.id:
            return sendJson(res, 200, { ...ME, ...TEAM })
          default:
            return sendJson(res, 404, notFound)
        }
      case 'POST /v1/auth/login': {
        const { password } = JSON.parse(body) as { password: string }
        if (password !== 'right password') {
          return sendJson(res, 401, {
            error: {
              type: 'authentication_error',
              code: 'invalid_credentials',
              message: 'Wrong email or password.',
              param: null,
            },
          })
        }
        signedIn = true
        return sendJson(res, 200, { ...ME, session: { token: 'ss_x', expires_at: '' } })
      }
      case 'POST /v1/auth/logout':
        if (!signedIn) return sendJson(res, 401, unauthorized)
        signedIn = false
        res.writeHead(204)
        return res.end()
      default:
        return sendJson(res, 404, { error: { message: 'nope' } })
    }
  })
})
afterAll(() => server.close())
beforeEach(() => {
  signedIn = false
  meCalls = 0
  meStatus = null
  meWorkspaces = []
})

function memoryStorage(initial?: string) {
  const data = new Map<string, string>(initial ? [[STORAGE_KEY, initial]] : [])
  const storage: WorkspaceStorage = {
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  }
  return { data, remembered: rememberedWorkspace(storage) }
}

describe('session', () => {
  it('asks /v1/me once, logs in, and logs out (also when already logged out)', async () => {
    const session = createSession(createApi(server.url))
    expect(await session.load()).toBeNull()
    await session.load()
    expect(meCalls).toBe(1)
    expect(session.signedIn.value).toBe(false)

    await expect(
      session.logIn({ email: 'ada@example.com', password: 'wrong' }),
    ).rejects.toMatchObject({
      status: 401,
      code: 'invalid_credentials',
    })
    const me = await session.logIn({ email: 'ada@example.com', password: 'right password' })
    expect(me.workspace.name).toBe("ada's workspace")
    expect(session.me.value?.role).toBe('owner')

    await session.logOut()
    expect(session.signedIn.value).toBe(false)
    await session.logOut() // the API answers 401 now: still fine
  })

  it('keeps an unreachable or failing API apart from "signed out"', async () => {
    meStatus = 500
    const session = createSession(createApi(server.url))
    expect(await session.load()).toBeNull()
    expect(session.error.value).toMatchObject({ status: 500 })
  })
})

describe('switching workspaces', () => {
  it('acts in the chosen workspace on every later call, and remembers it', async () => {
    signedIn = true
    const api = createApi(server.url)
    const { data, remembered } = memoryStorage()
    const session = createSession(api, remembered)
    expect((await session.load())?.workspace.name).toBe("ada's workspace")

    const me = await session.switchWorkspace(TEAM.workspace.id)
    expect(me).toMatchObject({ workspace: { name: 'Team' }, role: 'member' })
    expect(session.me.value?.workspace.name).toBe('Team')
    expect(api.workspaceId).toBe(TEAM.workspace.id)
    expect(data.get(STORAGE_KEY)).toBe(TEAM.workspace.id)
    await session.load(true)
    expect(meWorkspaces).toEqual([undefined, TEAM.workspace.id, TEAM.workspace.id])

    // A reload: a new session over the same storage starts in the chosen workspace.
    const reloaded = createSession(createApi(server.url), remembered)
    expect((await reloaded.load())?.workspace.name).toBe('Team')

    await session.logOut()
    expect(api.workspaceId).toBeNull()
    expect(data.has(STORAGE_KEY)).toBe(false)
  })

  it('keeps the current workspace when the switch is refused', async () => {
    signedIn = true
    const api = createApi(server.url)
    const { data, remembered } = memoryStorage()
    const session = createSession(api, remembered)
    await session.switchWorkspace(TEAM.workspace.id)
    await expect(session.switchWorkspace(GONE)).rejects.toMatchObject({
      status: 404,
      code: 'workspace_not_found',
    })
    expect(session.me.value?.workspace.name).toBe('Team')
    expect(api.workspaceId).toBe(TEAM.workspace.id)
    expect(data.get(STORAGE_KEY)).toBe(TEAM.workspace.id)
  })

  it('falls back to the default workspace when the remembered one is gone', async () => {
    signedIn = true
    const api = createApi(server.url)
    const { data, remembered } = memoryStorage(GONE)
    const session = createSession(api, remembered)
    expect(api.workspaceId).toBe(GONE)
    const me = await session.load()
    expect(me?.workspace.name).toBe("ada's workspace")
    expect(session.signedIn.value).toBe(true)
    expect(meWorkspaces).toEqual([GONE, undefined])
    expect(api.workspaceId).toBeNull()
    expect(data.has(STORAGE_KEY)).toBe(false)
  })

  it('starts a new account in its own workspace', async () => {
    const { data, remembered } = memoryStorage(TEAM.workspace.id)
    const api = createApi(server.url)
    const session = createSession(api, remembered)
    await expect(
      session.signUp({ email: 'ada@example.com', password: 'right password' }),
    ).rejects.toMatchObject({ status: 404 }) // the stand-in has no sign-up route
    expect(api.workspaceId).toBeNull()
    expect(data.has(STORAGE_KEY)).toBe(false)
  })
})

describe('auth guard', () => {
  const page = { render: () => null }
  const makeRouter = () => {
    const session = createSession(createApi(server.url))
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/', name: 'home', component: page },
        { path: '/status', name: 'status', component: page },
        { path: '/login', name: 'login', component: page, meta: { guestOnly: true } },
        { path: '/api-keys', name: 'api-keys', component: page, meta: { requiresAuth: true } },
        { path: '/usage', name: 'usage', component: page, meta: { requiresAuth: true } },
      ],
    })
    installAuthGuard(router, session)
    return { router, session }
  }

  it('sends guests to login with a way back, and back after logging in', async () => {
    const { router, session } = makeRouter()
    await router.push('/usage?days=7')
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.redirect).toBe('/usage?days=7')
    await router.push('/')
    expect(router.currentRoute.value.name).toBe('status')

    await session.logIn({ email: 'ada@example.com', password: 'right password' })
    await router.push({ name: 'login', query: { redirect: '/usage?days=7' } })
    expect(router.currentRoute.value.fullPath).toBe('/usage?days=7')
    await router.push('/')
    expect(router.currentRoute.value.name).toBe('api-keys')
    await router.push({ name: 'login', query: { redirect: '//evil.example' } })
    expect(router.currentRoute.value.name).toBe('api-keys')
  })
})
