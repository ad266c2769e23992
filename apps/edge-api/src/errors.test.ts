import { env, SELF } from 'cloudflare:test'
import { createRoute, z } from '@hono/zod-openapi'
import { describe, expect, it, vi } from 'vitest'
import { ApiError, type ErrorBody, handleError, handleNotFound } from './errors'
import { requestId } from './middleware/request-id'
import { createRouter } from './router'

/** A small app built from the same parts as the real one, with routes that take input. */
function testApp() {
  const app = createRouter()
  app.use('*', requestId())
  app.openapi(
    createRoute({
      method: 'post',
      path: '/widgets/{id}',
      request: {
        params: z.object({ id: z.string().uuid() }),
        body: {
          content: {
            'application/json': {
              schema: z.object({ name: z.string().min(1), size: z.object({ w: z.number() }) }),
            },
          },
        },
      },
      responses: { 200: { description: 'ok' } },
    }),
    (c) => c.json({ ok: true }, 200),
  )
  app.get('/teapot', () => {
    throw new ApiError(409, { type: 'conflict_error', code: 'busy', message: 'Try again' })
  })
  app.get('/boom', () => {
    throw new Error(`secret ${env.QSTASH_TOKEN} inside`)
  })
  app.notFound(handleNotFound)
  app.onError(handleError)
  return app
}

const post = (path: string, body: string) =>
  testApp().request(path, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json' },
  })

const ID = '7e0b1c9a-1f7c-4a43-9b7e-0c6f3f3b2a10'

describe('error envelope', () => {
  it('answers unknown routes 404 in the envelope with a request id', async () => {
    const res = await SELF.fetch('http://edge.test/nope?token=abc', { method: 'DELETE' })
    expect(res.status).toBe(404)
    const body = (await res.json()) as ErrorBody
    expect(body.error).toEqual({
      type: 'not_found_error',
      code: 'route_not_found',
      message: 'Unknown route: DELETE /nope',
      param: null,
      request_id: res.headers.get('X-Request-Id'),
    })
  })

  it('names the invalid body field in param (400)', async () => {
    const res = await post(`/widgets/${ID}`, JSON.stringify({ name: 'x', size: { w: 'wide' } }))
    expect(res.status).toBe(400)
    const body = (await res.json()) as ErrorBody
    expect(body.error.type).toBe('invalid_request_error')
    expect(body.error.code).toBe('invalid_parameter')
    expect(body.error.param).toBe('size.w')
    expect(body.error.message).toContain("'size.w'")
    expect(body.error.request_id).toMatch(/^req_/)
  })

  it('names an invalid path parameter', async () => {
    const res = await post('/widgets/not-a-uuid', JSON.stringify({ name: 'x', size: { w: 1 } }))
    expect(res.status).toBe(400)
    expect(((await res.json()) as ErrorBody).error.param).toBe('id')
  })

  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await post(`/widgets/${ID}`, '{"name": ')
    expect(res.status).toBe(400)
    const body = (await res.json()) as ErrorBody
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' })
  })

  it('passes a valid request through', async () => {
    const res = await post(`/widgets/${ID}`, JSON.stringify({ name: 'x', size: { w: 1 } }))
    expect(res.status).toBe(200)
  })

  it('renders thrown ApiErrors with their status and code', async () => {
    const res = await testApp().request('/teapot')
    expect(res.status).toBe(409)
    expect(((await res.json()) as ErrorBody).error).toMatchObject({
      type: 'conflict_error',
      code: 'busy',
      message: 'Try again',
    })
  })

  it('hides unexpected errors behind a generic 500 and logs them without secrets', async () => {
    const logged: string[] = []
    const spy = vi.spyOn(console, 'error').mockImplementation((...args) => {
      logged.push(args.join(' '))
    })
    let res: Response
    try {
      res = await testApp().request('/boom', {}, env)
    } finally {
      spy.mockRestore()
    }
    expect(logged.join('\n')).toContain('unhandled Error: secret *** inside')
    expect(logged.join('\n')).not.toContain(env.QSTASH_TOKEN as string)
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(JSON.parse(text).error).toMatchObject({ type: 'server_error', code: 'internal_error' })
    expect(text).not.toContain(env.QSTASH_TOKEN as string)
    expect(res.headers.get('X-Request-Id')).toMatch(/^req_/)
  })
})
