import type { MiddlewareHandler } from 'hono'
import { getConfig } from '../config'
import type { AppEnv } from '../types'

/**
 * Validates the bindings (once per isolate) and exposes them as `c.get('config')`.
 * A bad or missing variable throws `ConfigError`, which `handleError` answers with a 500
 * naming the variable.
 */
export const loadConfig = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  c.set('config', getConfig(c.env))
  await next()
}
