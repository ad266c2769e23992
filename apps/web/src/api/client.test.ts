import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closedPort, sendJson, startServer, type TestServer } from '../test-support/http-server'
import {
  type Api,
  ApiError,
  createApi,
  parseRetryAfter,
  readAnswer,
  unwrap,
  withSignal,
} from './client'

// A real node:http stand-in for the edge API; the web app's calls go through the typed SDK.
let server: TestServer
let api: Api
let slowApi: Api
let lastRequest: { method: string; url: string; headers: Record<string, unknown>; body: string }

const KEY = {
  id: '5b0b8a8e-8f4b-4a57-9a53-1f6f0d3c9a11',
  object: 'api_key',
  name: 'ci',
  prefix: 'sk_live_abc123',
  scopes: ['chat'],
  created_at: '2026-05-01T10:00:00.000Z',
  last_used_at: null,
  expires_at: null,
  revoked_at: null,
}

beforeAll(async () => {
  server = await startServer((req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x')
    lastRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /v1/api-keys':
        return sendJson(res, 200, { object: 'list', data: [KEY] })
      case 'POST /v1/api-keys':
        return sendJson(res, 201, { ...KEY, key: 'sk_live_secret' })
      case 'DELETE /v1/api-keys/5b0b8a8e-8f4b-4a57-9a53-1f6f0d3c9a11':
        return sendJson(res, 200, { ...KEY, revoked_at: '2026-05-02T00:00:00.000Z' })
      case 'POST /v1/auth/signup':
        return sendJson(res, 400, {
          error: {
            type: 'invalid_request_error',
            code: 'invalid_parameter',
            message: "Invalid body parameter 'password': must be at least 10 characters",
            param: 'password',
            request_id: 'req_123',
          },
        })
      case 'POST /v1/auth/login':
        return sendJson(
          res,
          429,
          {
            error: {
              type: 'rate_limit_error',
              code: 'too_many_login_attempts',
              message: 'Too many failed sign-in attempts.',
              param: null,
            },
          },
          { 'x-request-id': 'req_hdr', 'retry-after': '120' },
        )
      case 'POST /v1/auth/logout':
        res.writeHead(204)
        return res.end()
      case 'GET /v1/me':
        res.writeHead(502, { 'content-type': 'text/html' })
        return res.end('<html><body>Bad gateway secret-token-xyz</body></html>')
      case 'GET /health':
        return sendJson(res, 503, { status: 'degraded' })
      case 'GET /v1/workspaces':
        res.writeHead(200, { 'content-type': 'text/plain' })
        return res.end('hello')
      case 'GET /v1/usage':
        setTimeout(() => sendJson(res, 200, { late: true }), 3_000).unref()
        return
      case 'POST /v1/workspaces':
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write('{"partial":')
        return // never finishes
      default:
        return sendJson(res, 404, { error: { message: 'nope' } })
    }
  })
  api = createApi(`${server.url}/`, { timeoutMs: 2_000 })
  slowApi = createApi(server.url, { timeoutMs: 150 })
})

afterAll(async () => {
  await server.close()
})

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError)
    return e as ApiError
  }
  throw new Error('expected the call to fail')
}

describe('SDK calls through the browser fetch', () => {
  it('sends JSON with the right headers and returns the typed 2xx body', async () => {
    const created = await unwrap(
      api.sdk.v1['api-keys'].$post({ json: { name: 'ci', scopes: ['chat'] } }),
    )
    expect(created.key).toBe('sk_live_secret')
    expect(lastRequest.method).toBe('POST')
    expect(lastRequest.headers['content-type']).toBe('application/json')
    expect(lastRequest.headers.accept).toBe('application/json')
    expect(JSON.parse(lastRequest.body)).toEqual({ name: 'ci', scopes: ['chat'] })
  })

  it('builds paths and queries without double slashes, and GETs without a body', async () => {
    const list = await unwrap(api.sdk.v1['api-keys'].$get({ query: { include_revoked: 'true' } }))
    expect(list.data[0]?.prefix).toBe('sk_live_abc123')
    expect(lastRequest.url).toBe('/v1/api-keys?include_revoked=true')
    expect(lastRequest.headers['content-type']).toBeUndefined()
    const revoked = await unwrap(
      api.sdk.v1['api-keys'][':key_id'].$delete({ param: { key_id: KEY.id } }),
    )
    expect(revoked.revoked_at).not.toBeNull()
    expect(lastRequest.url).toBe(`/v1/api-keys/${KEY.id}`)
  })

  it('returns undefined for an empty 204', async () => {
    expect(await unwrap(api.sdk.v1.auth.logout.$post())).toBeUndefined()
  })

  it('treats acceptStatus answers as data, not errors', async () => {
    const res = await readAnswer(await api.sdk.health.$get(), { acceptStatus: [503] })
    expect(res).toMatchObject({ status: 503, data: { status: 'degraded' } })
    const err = await caught(unwrap(api.sdk.health.$get()))
    expect(err).toMatchObject({ status: 503, type: 'api_error' })
  })
})

describe('errors', () => {
  it('turns the error envelope into a typed ApiError with the field in param', async () => {
    const err = await caught(
      unwrap(api.sdk.v1.auth.signup.$post({ json: { email: 'a@b.co', password: 'short' } })),
    )
    expect(err).toMatchObject({
      name: 'ApiError',
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_parameter',
      param: 'password',
      requestId: 'req_123',
      retryAfter: null,
      url: `${server.url}/v1/auth/signup`,
      isConnectionError: false,
    })
  })

  it('reads Retry-After and falls back to the x-request-id header', async () => {
    const err = await caught(
      unwrap(api.sdk.v1.auth.login.$post({ json: { email: 'a@b.co', password: 'x' } })),
    )
    expect(err).toMatchObject({ status: 429, code: 'too_many_login_attempts', retryAfter: 120 })
    expect(err.requestId).toBe('req_hdr')
  })

  it('does not echo a non-envelope error body', async () => {
    const err = await caught(unwrap(api.sdk.v1.me.$get({ header: {} })))
    expect(err).toMatchObject({ status: 502, type: 'api_error', code: 'http_502' })
    expect(err.message).toBe('The API answered HTTP 502.')
    expect(err.message).not.toContain('secret')
  })

  it('reports a success body that is not JSON as invalid_response', async () => {
    const err = await caught(unwrap(api.sdk.v1.workspaces.$get()))
    expect(err).toMatchObject({ status: 200, type: 'invalid_response', code: 'invalid_json' })
  })

  it('reports a closed port as unreachable, naming the URL without its query', async () => {
    const port = await closedPort()
    const offline = createApi(`http://127.0.0.1:${port}`)
    const err = await caught(unwrap(offline.sdk.v1.usage.$get({ query: { start_date: 'x' } })))
    expect(err).toMatchObject({
      status: 0,
      type: 'connection_error',
      code: 'unreachable',
      url: `http://127.0.0.1:${port}/v1/usage`,
      isConnectionError: true,
    })
    expect(`${err.message} ${err.url}`).not.toContain('start_date')
  })

  it('times out a slow answer, and a body that stops half way', async () => {
    const started = performance.now()
    const err = await caught(unwrap(slowApi.sdk.v1.usage.$get({ query: {} })))
    expect(err).toMatchObject({ status: 0, type: 'connection_error', code: 'timeout' })
    expect(performance.now() - started).toBeLessThan(1_500)
    const stalled = await caught(unwrap(slowApi.sdk.v1.workspaces.$post({ json: { name: 'x' } })))
    expect(stalled.code).toBe('timeout')
  })

  it('honours the caller signal, before and during the call', async () => {
    const early = new AbortController()
    early.abort()
    const first = api.sdk.v1['api-keys'].$get({ query: {} }, withSignal(early.signal))
    expect((await caught(unwrap(first))).code).toBe('aborted')

    const late = new AbortController()
    const pending = unwrap(api.sdk.v1.usage.$get({ query: {} }, withSignal(late.signal)))
    setTimeout(() => late.abort(), 50)
    expect((await caught(pending)).code).toBe('aborted')
  })
})

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and ignores junk', () => {
    expect(parseRetryAfter('30')).toBe(30)
    const now = Date.parse('2026-05-01T10:00:00Z')
    expect(parseRetryAfter('Fri, 01 May 2026 10:01:30 GMT', now)).toBe(90)
    expect(parseRetryAfter('Fri, 01 May 2026 09:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter(null)).toBeNull()
    expect(parseRetryAfter('soon')).toBeNull()
  })
})
