import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../types'

export const REQUEST_ID_HEADER = 'X-Request-Id'

/** A caller-supplied id is kept only if it is short and plain; anything else is replaced. */
const acceptable = /^[A-Za-z0-9._:-]{8,128}$/

export const newRequestId = (): string => `req_${crypto.randomUUID().replaceAll('-', '')}`

/** Gives every request an id (`c.get('requestId')`) and every response an `X-Request-Id`. */
export const requestId = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const incoming = c.req.header(REQUEST_ID_HEADER)
  const id = incoming && acceptable.test(incoming) ? incoming : newRequestId()
  c.set('requestId', id)
  c.header(REQUEST_ID_HEADER, id)
  await next()
  if (c.res.headers.get(REQUEST_ID_HEADER) !== id) {
    try {
      c.res.headers.set(REQUEST_ID_HEADER, id)
    } catch {
      // Immutable headers (a proxied response): copy it once.
      c.res = new Response(c.res.body, c.res)
      c.res.headers.set(REQUEST_ID_HEADER, id)
    }
  }
}
