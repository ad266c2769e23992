import type { AuthContext } from './auth/context'
import type { Config } from './config'
import type { Env } from './env'

/** Hono generics for this app: bindings plus per-request variables set by middleware. */
export interface AppEnv {
  Bindings: Env
  Variables: {
    requestId: string
    config: Config
    /** Set by `requireAuth()` (src/middleware/auth.ts). */
    auth: AuthContext
  }
}
