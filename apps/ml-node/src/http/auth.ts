import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { ApiError, respondError } from './errors.js'

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * Bearer auth: every configured token is compared in constant time (SHA-256 digests of equal
 * length, all of them checked). The token is never echoed or logged.
 */
export function bearerAuth(tokens: string[]): MiddlewareHandler {
  const expected = tokens.map(digest)
  return async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(.+)$/i.exec(header.trim())
    if (!match?.[1]) {
      return respondError(
        c,
        new ApiError(
          401,
          "You didn't provide an API key. Send it as 'Authorization: Bearer <token>'.",
          'invalid_request_error',
          null,
          'missing_api_key',
        ),
      )
    }
    const got = digest(match[1])
    let ok = false
    for (const e of expected) ok = timingSafeEqual(e, got) || ok
    if (!ok) {
      c.header('WWW-Authenticate', 'Bearer')
      return respondError(
        c,
        new ApiError(
          401,
          'Incorrect API key provided.',
          'invalid_request_error',
          null,
          'invalid_api_key',
        ),
      )
    }
    await next()
  }
}
