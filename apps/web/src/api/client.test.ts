import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closedPort, sendJson, startServer, type TestServer } from '../test-support/http-server'
import { ApiClient, ApiError } from './client'

let server: TestServer
let client: ApiClient

beforeAll(async () => {
  server = await startServer((req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x')
    switch (url.pathname) {
      case '/echo':
        return sendJson(res, 200, {
          method: req.method,
          path: url.pathname,
          query: url.search,
          headers: req.headers,
          body,
        })
      case '/v1/things':
        return sendJson(res, 422, {
          error: {
            type: 'invalid_request_error',
            code: 'missing_field',
            message: 'name is required',
            param: 'name',
            request_id: 'req_123',
          },
        })
      case '/limited':
        return sendJson(
          res,
          429,
          { error: { type: 'rate_limit_error', code: null, message: 'Slow down', param: null } },
          { 'x-request-id': 'req_hdr' },
        )
      case '/proxy-error':
        res.writeHead(502, { 'content-type': 'text/html' })
        return res.end('<html><body>Bad gateway secret-token-xyz</body></html>')
      case '/degraded':
        return sendJson(res, 503, { status: 'degraded' })
      case '/not-json':
        res.writeHead(200, { 'content-type': 'text/plain' })
        return res.end('hello')
      case '/empty':
        res.writeHead(204)
        return res.end()
      case '/slow':
        setTimeout(() => sendJson(res, 200, { late: true }), 3_000).unref()
        return
      case '/stalled-body':
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write('{"partial":')
        return // never finishes
      default:
        return sendJson(res, 404, {
          error: {
            type: 'not_found_error',
            code: 'route_not_found',
            message: 'No such route',
            param: null,
            request_id: 'req_404',
          },
        })
    }
  })
  client = new ApiClient({ baseUrl: `${server.url}/`, timeoutMs: 2_000 })
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

describe('ApiClient requests', () => {
  it('sends JSON bodies with the right headers and parses the JSON answer', async () => {
    const data = await client.post<{
      method: string
      headers: Record<string, string>
      body: string
    }>('/echo', { name: 'Ada', tags: ['x'] })
    expect(data.method).toBe('POST')
    expect(data.headers['content-type']).toBe('application/json')
    expect(data.headers.accept).toBe('application/json')
    expect(JSON.parse(data.body)).toEqual({ name: 'Ada', tags: ['x'] })
  })

  it('builds URLs from the base URL, path and query without double slashes', async () => {
    const data = await client.get<{ path: string; query: string }>('echo', {
      query: { q: 'a b', page: 2, tag: ['x', 'y'], skip: undefined, none: null },
    })
    expect(data.path).toBe('/echo')
    expect(data.query).toBe('?q=a+b&page=2&tag=x&tag=y')
  })

  it('merges default headers and per-call headers, and sends GET without a body', async () => {
    const withAuth = new ApiClient({ baseUrl: server.url, headers: { 'x-workspace': 'w1' } })
    const data = await withAuth.get<{ method: string; headers: Record<string, string> }>('/echo', {
      headers: { 'x-extra': 'yes' },
    })
    expect(data.method).toBe('GET')
    expect(data.headers['x-workspace']).toBe('w1')
    expect(data.headers['x-extra']).toBe('yes')
    expect(data.headers['content-type']).toBeUndefined()
  })

  it('passes FormData through as multipart', async () => {
    const form = new FormData()
    form.set('file', new Blob(['hello world'], { type: 'text/plain' }), 'hello.txt')
    const data = await client.post<{ headers: Record<string, string>; body: string }>('/echo', form)
    expect(data.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/)
    expect(data.body).toContain('hello world')
  })

  it('returns status, headers and undefined data for an empty 204', async () => {
    const res = await client.request('/empty', { method: 'DELETE' })
    expect(res.status).toBe(204)
    expect(res.data).toBeUndefined()
  })

  it('treats acceptStatus answers as data, not errors', async () => {
    const res = await client.request<{ status: string }>('/degraded', { acceptStatus: [503] })
    expect(res.status).toBe(503)
    expect(res.data).toEqual({ status: 'degraded' })
    const err = await caught(client.request('/degraded'))
    expect(err.status).toBe(503)
    expect(err.type).toBe('api_error')
  })
})

describe('ApiClient errors', () => {
  it('turns the error envelope into a typed ApiError', async () => {
    const err = await caught(client.post('/v1/things', {}))
    expect(err).toMatchObject({
      name: 'ApiError',
      status: 422,
      type: 'invalid_request_error',
      code: 'missing_field',
      message: 'name is required',
      param: 'name',
      requestId: 'req_123',
      url: `${server.url}/v1/things`,
      isConnectionError: false,
    })
  })

  it('falls back to the x-request-id header when the envelope has no request_id', async () => {
    const err = await caught(client.get('/limited'))
    expect(err).toMatchObject({ status: 429, type: 'rate_limit_error', code: null })
    expect(err.requestId).toBe('req_hdr')
  })

  it('does not echo a non-envelope error body', async () => {
    const err = await caught(client.get('/proxy-error'))
    expect(err).toMatchObject({ status: 502, type: 'api_error', code: 'http_502' })
    expect(err.message).toBe('The API answered HTTP 502 Bad Gateway.')
    expect(err.message).not.toContain('secret')
  })

  it('reports a success body that is not JSON as invalid_response', async () => {
    const err = await caught(client.get('/not-json'))
    expect(err).toMatchObject({ status: 200, type: 'invalid_response', code: 'invalid_json' })
  })

  it('reports a closed port as unreachable, naming the URL without its query', async () => {
    const port = await closedPort()
    const offline = new ApiClient({ baseUrl: `http://127.0.0.1:${port}` })
    const err = await caught(offline.get('/health', { query: { token: 'sk-secret' } }))
    expect(err).toMatchObject({
      status: 0,
      type: 'connection_error',
      code: 'unreachable',
      url: `http://127.0.0.1:${port}/health`,
      isConnectionError: true,
    })
    expect(err.message).toContain(`127.0.0.1:${port}/health`)
    expect(`${err.message} ${err.url}`).not.toContain('sk-secret')
  })

  it('times out a slow answer', async () => {
    const started = performance.now()
    const err = await caught(client.get('/slow', { timeoutMs: 150 }))
    expect(err).toMatchObject({ status: 0, type: 'connection_error', code: 'timeout' })
    expect(performance.now() - started).toBeLessThan(1_500)
  })

  it('times out a body that stops half way', async () => {
    const err = await caught(client.get('/stalled-body', { timeoutMs: 150 }))
    expect(err.code).toBe('timeout')
  })

  it('honours the caller signal, before and during the call', async () => {
    const early = new AbortController()
    early.abort()
    expect((await caught(client.get('/echo', { signal: early.signal }))).code).toBe('aborted')

    const late = new AbortController()
    const pending = client.get('/slow', { signal: late.signal })
    setTimeout(() => late.abort(), 50)
    expect((await caught(pending)).code).toBe('aborted')
  })
})
