import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { assertPortFree } from './ports.js'

let server: Server | undefined

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

describe('assertPortFree', () => {
  it('resolves for a free port', async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as { port: number }
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    await expect(assertPortFree(port, '127.0.0.1', 'edge-api', 'EDGE_API_PORT')).resolves.toBe(
      undefined,
    )
  })

  it('names the port, its owner and the variable that moves it when the port is busy', async () => {
    server = createServer()
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    await expect(assertPortFree(port, '127.0.0.1', 'edge-api', 'EDGE_API_PORT')).rejects.toThrow(
      `port ${port} (edge-api) is already in use on 127.0.0.1: stop whatever listens there or set EDGE_API_PORT`,
    )
  })
})
