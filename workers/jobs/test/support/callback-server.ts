import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedCall {
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/** A tiny HTTP server that records every request (QStash callbacks) and answers 200. */
export async function startCallbackServer() {
  const calls: ReceivedCall[] = []
  const waiters = new Set<() => void>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      calls.push({
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      })
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
      for (const wake of waiters) wake()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  /** Resolves with the first recorded call that matches, or rejects after `timeoutMs`. */
  function waitFor(match: (call: ReceivedCall) => boolean, timeoutMs = 20_000) {
    return new Promise<ReceivedCall>((resolve, reject) => {
      const check = () => {
        const found = calls.find(match)
        if (!found) return false
        waiters.delete(check)
        clearTimeout(timer)
        resolve(found)
        return true
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`no matching call within ${timeoutMs} ms; got ${calls.length} calls`))
      }, timeoutMs)
      if (!check()) waiters.add(check)
    })
  }

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    waitFor,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
