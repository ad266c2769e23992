import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env'

/**
 * The base URL each in-flight request reached this worker on, by request id. A job handler gets
 * the request id but not the request; `workflow.run` needs the base to tell QStash where the
 * workflow endpoint is: the base the job itself was delivered to.
 */
const bases = new Map<string, string>()

/** Remembers the request's base URL (`JOBS_PUBLIC_URL`, else its origin) while it runs. */
export function rememberBaseUrl(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const id = c.get('requestId')
    const configured = c.get('config').JOBS_PUBLIC_URL
    bases.set(id, configured ? configured.replace(/\/+$/, '') : new URL(c.req.url).origin)
    try {
      await next()
    } finally {
      bases.delete(id)
    }
  }
}

/** The worker's base URL for request `requestId`; undefined outside `rememberBaseUrl`. */
export function baseUrlOf(requestId: string): string | undefined {
  return bases.get(requestId)
}
