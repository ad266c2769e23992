import type { MiddlewareHandler } from 'hono'
import { cors as honoCors } from 'hono/cors'
import type { AppEnv } from '../types'

/** CORS for the browser app: only origins listed in `CORS_ORIGINS` (comma-separated). */
export const cors = (): MiddlewareHandler<AppEnv> => (c, next) =>
  honoCors({
    origin: (origin) => (c.get('config').CORS_ORIGINS.includes(origin) ? origin : null),
    allowHeaders: [
      'Authorization',
      'Content-Type',
      'Idempotency-Key',
      'X-Request-Id',
      'X-Workspace-Id',
    ],
    allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    exposeHeaders: [
      'X-Request-Id',
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ],
    credentials: true,
    maxAge: 600,
  })(c, next)
