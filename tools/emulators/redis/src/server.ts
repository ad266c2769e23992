/** The HTTP side: routing, auth, body limits; one handler per Upstash endpoint. */
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Backend } from './backends/types.js'
import {
  encodeOutcomes,
  encodeReply,
  errorResponse,
  parseCommand,
  parseCommands,
  parsePathCommand,
  RequestError,
} from './protocol.js'

/** Largest request body accepted (Upstash's own limit depends on the plan). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024

const ALLOWED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT'])

export function createEmulatorServer(backend: Backend, token: string): Server {
  const expected = digest(token)
  const authorized = (req: IncomingMessage, url: URL): boolean => {
    const header = req.headers.authorization
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    const candidate = match?.[1] ?? url.searchParams.get('_token')
    return (
      candidate !== null && candidate !== undefined && timingSafeEqual(digest(candidate), expected)
    )
  }

  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const { status, body } = errorResponse(error)
      send(res, status, body)
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator')
    const method = req.method ?? 'GET'
    if (url.pathname === '/health' && (method === 'GET' || method === 'HEAD')) {
      req.resume()
      return send(res, 200, { status: 'ok', backend: backend.name })
    }
    if (!ALLOWED_METHODS.has(method)) {
      req.resume()
      return send(res, 405, { error: 'Method Not Allowed' })
    }
    if (!authorized(req, url)) {
      req.resume()
      return send(res, 401, { error: 'Unauthorized' })
    }
    const body = await readBody(req)
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64'

    switch (url.pathname) {
      case '/': {
        if (body.length === 0) throw new RequestError(400, 'ERR failed to parse command')
        const result = await backend.command(parseCommand(body))
        return send(res, 200, { result: encodeReply(result, base64) })
      }
      case '/pipeline': {
        const outcomes = await backend.pipeline(parseCommands(body))
        return send(res, 200, encodeOutcomes(outcomes, base64))
      }
      case '/multi-exec': {
        const outcomes = await backend.transaction(parseCommands(body))
        return send(res, 200, encodeOutcomes(outcomes, base64))
      }
      default: {
        const args = parsePathCommand(url.pathname, url.searchParams, body)
        const result = await backend.command(args)
        return send(res, 200, { result: encodeReply(result, base64) })
      }
    }
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        tooLarge = true
        chunks.length = 0
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (tooLarge) {
        reject(
          new RequestError(400, `ERR max request size exceeded. Limit: ${MAX_BODY_BYTES} bytes`),
        )
      } else {
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks))
      }
    })
    req.on('error', reject)
  })
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  res.end(res.req.method === 'HEAD' ? undefined : text)
}
