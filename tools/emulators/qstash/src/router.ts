/**
 * A minimal router on node:http with a Hono-like surface (`app.get(path, c => c.json(...))`).
 *
 * The emulator sits on the hot path of every job, so requests are served straight from
 * node:http without building WHATWG Request/Response objects (that conversion cost more than
 * the rest of a publish). Patterns: `/v2/messages/:id`, and a trailing `*` for the raw rest.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { QStashError } from './errors'

export interface Reply {
  status: number
  body?: string
}

export class RequestContext {
  private readonly query_: URLSearchParams
  private headers_: Headers | undefined
  private body_: Promise<Buffer> | undefined

  constructor(
    readonly incoming: IncomingMessage,
    /** the raw request target, e.g. `/v2/publish/https://example.com/x?y=1` */
    readonly url: string,
    readonly path: string,
    private readonly params: Record<string, string>,
    private readonly maxBodyBytes: number,
  ) {
    const q = url.indexOf('?')
    this.query_ = new URLSearchParams(q === -1 ? '' : url.slice(q + 1))
  }

  get ip(): string {
    return (this.incoming.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '')
  }

  param(name: string): string {
    return this.params[name] ?? ''
  }

  query(name: string): string | undefined {
    return this.query_.get(name) ?? undefined
  }

  queries(name: string): string[] | undefined {
    const all = this.query_.getAll(name)
    return all.length > 0 ? all : undefined
  }

  header(name: string): string | undefined {
    const value = this.incoming.headers[name.toLowerCase()]
    return Array.isArray(value) ? value.join(', ') : value
  }

  /** All request headers as a WHATWG Headers object (names lower-cased). */
  get headers(): Headers {
    if (!this.headers_) {
      const headers = new Headers()
      const raw = this.incoming.rawHeaders
      for (let i = 0; i < raw.length; i += 2) {
        try {
          headers.append(raw[i] as string, raw[i + 1] as string)
        } catch {
          // a header value WHATWG rejects is ignored, as fetch would
        }
      }
      this.headers_ = headers
    }
    return this.headers_
  }

  buffer(): Promise<Buffer> {
    this.body_ ??= new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = []
      let size = 0
      let tooLarge = false
      this.incoming.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > this.maxBodyBytes) tooLarge = true
        else chunks.push(chunk)
      })
      this.incoming.on('end', () => {
        if (tooLarge) {
          reject(new QStashError(413, `request body exceeds ${this.maxBodyBytes} bytes`))
        } else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks))
      })
      this.incoming.on('error', reject)
    })
    return this.body_
  }

  async text(): Promise<string> {
    return (await this.buffer()).toString('utf8')
  }

  json(value: unknown, status = 200): Reply {
    return { status, body: JSON.stringify(value) }
  }

  empty(status = 200): Reply {
    return { status }
  }
}

type Handler = (c: RequestContext) => Reply | Promise<Reply>

interface Route {
  method: string
  pattern: RegExp
  names: string[]
  handler: Handler
}

function compile(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = []
  let source = ''
  for (const part of path.split('/').slice(1)) {
    if (part === '*') {
      source += '/.*'
    } else if (part.startsWith(':')) {
      names.push(part.slice(1))
      source += '/([^/]+)'
    } else {
      source += `/${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`
    }
  }
  return { pattern: new RegExp(`^${source}$`), names }
}

export class Router {
  private readonly routes: Route[] = []
  private before: Handler | undefined
  private onError: (error: unknown, c: RequestContext) => Reply = () => ({ status: 500 })

  constructor(private readonly maxBodyBytes: number) {}

  /** Runs before every route whose path starts with `prefix`; a reply ends the request. */
  use(prefix: string, guard: (c: RequestContext) => Reply | undefined): void {
    const previous = this.before
    this.before = (c) => {
      const earlier = previous?.(c) as Reply | undefined
      if (earlier) return earlier
      return (c.path.startsWith(prefix) ? guard(c) : undefined) as Reply
    }
  }

  error(handler: (error: unknown, c: RequestContext) => Reply): void {
    this.onError = handler
  }

  on(methods: string[], path: string, handler: Handler): void {
    const { pattern, names } = compile(path)
    for (const method of methods) this.routes.push({ method, pattern, names, handler })
  }

  get(path: string, handler: Handler): void {
    this.on(['GET'], path, handler)
  }

  post(path: string, handler: Handler): void {
    this.on(['POST'], path, handler)
  }

  delete(path: string, handler: Handler): void {
    this.on(['DELETE'], path, handler)
  }

  /** The node:http request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    void this.handle(req, res)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    let route: Route | undefined
    let match: RegExpExecArray | null = null
    for (const r of this.routes) {
      if (r.method !== req.method) continue
      match = r.pattern.exec(path)
      if (match) {
        route = r
        break
      }
    }
    const params: Record<string, string> = {}
    if (route && match) {
      route.names.forEach((name, i) => {
        const raw = match?.[i + 1] ?? ''
        try {
          params[name] = decodeURIComponent(raw)
        } catch {
          params[name] = raw
        }
      })
    }
    const c = new RequestContext(req, url, path, params, this.maxBodyBytes)
    let reply: Reply
    try {
      const early = this.before?.(c) as Reply | undefined
      if (early) reply = early
      else if (!route) reply = c.json({ error: 'not found' }, 404)
      else reply = await route.handler(c)
    } catch (error) {
      reply = this.onError(error, c)
    }
    if (!req.complete) {
      // drain an unread body so the connection can be reused
      req.resume()
    }
    if (reply.body === undefined) {
      res.writeHead(reply.status, { 'content-length': '0' })
      res.end()
    } else {
      const body = Buffer.from(reply.body)
      res.writeHead(reply.status, {
        'content-type': 'application/json',
        'content-length': String(body.length),
      })
      res.end(body)
    }
  }
}
