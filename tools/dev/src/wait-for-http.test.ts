import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { waitForHttp } from './wait-for-http'

let server: Server | undefined

async function serve(answers: Array<{ status: number; body: unknown }>): Promise<string> {
  let call = 0
  server = createServer((_req, res) => {
    const answer = answers[Math.min(call++, answers.length - 1)] as (typeof answers)[number]
    res.writeHead(answer.status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(answer.body))
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve))
  server = undefined
})

describe('waitForHttp', () => {
  it('waits through 5xx answers until the service answers', async () => {
    const url = await serve([
      { status: 503, body: { status: 'starting' } },
      { status: 502, body: {} },
      { status: 200, body: { status: 'ok' } },
    ])
    await expect(waitForHttp(url, 10_000, () => true)).resolves.toBeUndefined()
  })

  it('fails at once, naming the variable, when the configuration is invalid', async () => {
    const message = 'Invalid configuration: DATABASE_URL is required'
    const url = await serve([
      { status: 500, body: { error: { code: 'config_invalid', message, param: 'DATABASE_URL' } } },
    ])
    const started = Date.now()
    await expect(waitForHttp(url, 30_000, () => true)).rejects.toThrow(message)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('gives up at the deadline with the last answer', async () => {
    const url = await serve([{ status: 500, body: { error: { code: 'internal_error' } } }])
    await expect(waitForHttp(url, 600, () => true)).rejects.toThrow(/within 1 s \(HTTP 500\)/)
  })

  it('stops waiting when the process has exited', async () => {
    const url = await serve([{ status: 503, body: {} }])
    await expect(waitForHttp(url, 10_000, () => false)).rejects.toThrow(/exited before/)
  })
})
