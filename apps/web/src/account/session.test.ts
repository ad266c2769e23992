import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { createApi } from '../api/client'
import { installAuthGuard } from '../router'
import { sendJson, startServer, type TestServer } from '../test-support/http-server'
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

beforeAll(async () => {
  server = await startServer((req, res, body) => {
    switch (`${req.method} ${req.url}`) {
      case 'GET /v1/me':
        meCalls++
        if (meStatus)
          return sendJson(res, meStatus, { error: { message: 'down', type: 'server_error' } })
        return signedIn ? sendJson(res, 200, ME) : sendJson(res, 401, unauthorized)
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
})

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
