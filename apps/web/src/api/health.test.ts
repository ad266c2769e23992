import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendJson, startServer, type TestServer } from '../test-support/http-server'
import { type Api, ApiError, createApi } from './client'
import { fetchHealth, parseHealthReport } from './health'

const okBody = {
  status: 'ok',
  checks: {
    postgres: { status: 'ok', latency_ms: 3.2 },
    qstash: { status: 'not_configured' },
  },
  version: '1.2.3',
}
const degradedBody = {
  status: 'degraded',
  checks: { redis: { status: 'error', latency_ms: 5000, error: 'connect ECONNREFUSED' } },
  version: '1.2.3',
}

let server: TestServer
let client: Api
let answer: { status: number; body: unknown } = { status: 200, body: okBody }

beforeAll(async () => {
  server = await startServer((_req, res) => sendJson(res, answer.status, answer.body))
  client = createApi(server.url)
})
afterAll(() => server.close())

describe('fetchHealth', () => {
  it('reads a 200 ok report', async () => {
    answer = { status: 200, body: okBody }
    const r = await fetchHealth(client)
    expect(r.httpStatus).toBe(200)
    expect(r.report).toEqual(okBody)
    expect(r.checkedAt).toBeInstanceOf(Date)
  })

  it('reads a 503 degraded report as data', async () => {
    answer = { status: 503, body: degradedBody }
    const r = await fetchHealth(client)
    expect(r.httpStatus).toBe(503)
    expect(r.report.status).toBe('degraded')
    expect(r.report.checks.redis).toEqual(degradedBody.checks.redis)
  })

  it('rejects a body that is not a health report', async () => {
    answer = { status: 200, body: { hello: 'world' } }
    const err = await fetchHealth(client).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ type: 'invalid_response', code: 'invalid_health_report' })
  })

  it('passes other API errors through', async () => {
    answer = {
      status: 500,
      body: { error: { type: 'api_error', code: 'internal', message: 'boom', param: null } },
    }
    const err = await fetchHealth(client).catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 500, type: 'api_error', code: 'internal' })
  })
})

describe('parseHealthReport', () => {
  it('keeps known fields and drops junk', () => {
    expect(
      parseHealthReport({
        status: 'down',
        checks: { vectors: { status: 'error', latency_ms: 'slow', error: 'x', extra: 1 } },
      }),
    ).toEqual({
      status: 'down',
      checks: { vectors: { status: 'error', error: 'x' } },
      version: 'unknown',
    })
  })

  it('refuses unknown statuses and wrong shapes', () => {
    expect(parseHealthReport(null)).toBeNull()
    expect(parseHealthReport([])).toBeNull()
    expect(parseHealthReport({ status: 'fine', checks: {} })).toBeNull()
    expect(parseHealthReport({ status: 'ok', checks: [] })).toBeNull()
    expect(parseHealthReport({ status: 'ok', checks: { redis: { status: 'meh' } } })).toBeNull()
    expect(parseHealthReport({ status: 'ok', checks: { redis: 'ok' } })).toBeNull()
  })
})
