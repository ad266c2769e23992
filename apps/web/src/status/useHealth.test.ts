import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { effectScope } from 'vue'
import { createApi } from '../api/client'
import { closedPort, sendJson, startServer, type TestServer } from '../test-support/http-server'
import { useHealth } from './useHealth'

let server: TestServer
let hits = 0

beforeAll(async () => {
  server = await startServer((_req, res) => {
    hits++
    sendJson(res, 200, { status: 'ok', checks: { redis: { status: 'ok' } }, version: `v${hits}` })
  })
})
afterAll(() => server.close())

const until = async (cond: () => boolean, ms = 2_000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('useHealth', () => {
  it('loads at once, refreshes on its interval, and stops when its scope ends', async () => {
    hits = 0
    const scope = effectScope()
    const health = scope.run(() => useHealth({ client: createApi(server.url), intervalMs: 60 }))
    if (!health) throw new Error('no scope result')
    expect(health.loading.value).toBe(true)
    await until(() => health.result.value !== null)
    expect(health.result.value?.report.version).toBe('v1')
    await until(() => hits >= 3)
    expect(health.error.value).toBeNull()
    scope.stop()
    const after = hits
    await new Promise((r) => setTimeout(r, 200))
    expect(hits).toBeLessThanOrEqual(after + 1)
  })

  it('exposes an unreachable API as an error and clears the old report', async () => {
    const port = await closedPort()
    const scope = effectScope()
    const health = scope.run(() =>
      useHealth({
        client: createApi(`http://127.0.0.1:${port}`),
        intervalMs: 5_000,
      }),
    )
    if (!health) throw new Error('no scope result')
    await until(() => health.error.value !== null)
    expect(health.error.value).toMatchObject({ code: 'unreachable' })
    expect(health.result.value).toBeNull()
    expect(health.loading.value).toBe(false)
    scope.stop()
  })
})
