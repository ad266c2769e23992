/** Test helpers: a real HTTP endpoint that records what QStash delivers to it. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Delivery {
  path: string
  method: string
  headers: IncomingHttpHeaders
  body: string
  at: number
}

export type Handler = (
  d: Delivery,
) =>
  | { status: number; body?: string; delayMs?: number; headers?: Record<string, string> }
  | undefined

export interface Endpoint {
  url: string
  deliveries: Delivery[]
  /** deliveries in progress right now, and the most seen at once */
  inFlight: number
  maxInFlight: number
  setHandler(handler: Handler): void
  close(): Promise<void>
}

export async function startEndpoint(handler?: Handler): Promise<Endpoint> {
  let current: Handler = handler ?? (() => undefined)
  const endpoint: Endpoint = {
    url: '',
    deliveries: [],
    inFlight: 0,
    maxInFlight: 0,
    setHandler(h) {
      current = h
    },
    close: async () => {},
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const delivery: Delivery = {
        path: req.url ?? '/',
        method: req.method ?? 'GET',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      }
      endpoint.inFlight++
      endpoint.maxInFlight = Math.max(endpoint.maxInFlight, endpoint.inFlight)
      const answer = current(delivery) ?? { status: 200, body: 'ok' }
      const respond = () => {
        endpoint.inFlight--
        endpoint.deliveries.push(delivery)
        res.writeHead(answer.status, {
          'content-type': 'text/plain',
          'x-endpoint': 'test',
          ...answer.headers,
        })
        res.end(answer.body ?? '')
      }
      if (answer.delayMs) setTimeout(respond, answer.delayMs)
      else respond()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  endpoint.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return endpoint
}

/** Polls until `check` returns a truthy value or the time is up. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface FetchServer {
  url: string
  close(): Promise<void>
}

/**
 * Serves WHATWG handlers (e.g. `serve(...).handler` of `@upstash/workflow`) on node:http, one per
 * path, at a real URL QStash can deliver to.
 */
export async function startFetchServer(
  routes: Record<string, (request: Request) => Promise<Response>>,
): Promise<FetchServer> {
  let base = ''
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const path = (req.url ?? '/').split('?')[0] as string
      const route = routes[path]
      if (!route) {
        res.writeHead(404).end('no such route')
        return
      }
      const headers = new Headers()
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string)
      }
      const method = req.method ?? 'GET'
      const body = ['GET', 'HEAD'].includes(method) ? undefined : Buffer.concat(chunks)
      try {
        const response = await route(new Request(`${base}${req.url}`, { method, headers, body }))
        res.writeHead(response.status, Object.fromEntries(response.headers))
        res.end(Buffer.from(await response.arrayBuffer()))
      } catch (error) {
        res.writeHead(500).end(String(error))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: base,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
