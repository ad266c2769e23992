// Types for `import { env, exports } from 'cloudflare:workers'` (used by the workerd tests).
// Hand-written instead of `wrangler types`: the bindings are all plain strings, see ./env.ts.
import type { Bindings } from './env'
import type worker from './index'

declare global {
  namespace Cloudflare {
    interface Env extends Bindings {
      QSTASH_CURRENT_SIGNING_KEY: string
      QSTASH_NEXT_SIGNING_KEY: string
    }
    interface GlobalProps {
      mainModule: { default: typeof worker }
    }
  }
}
