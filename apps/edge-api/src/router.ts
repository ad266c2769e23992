import { OpenAPIHono } from '@hono/zod-openapi'
import { validationError } from './errors'
import type { AppEnv } from './types'

/**
 * A router whose request validation failures become the 400 error envelope (`param` names the
 * field). Use it for every route group so the hook is never forgotten.
 */
export const createRouter = () =>
  new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target)
    },
  })
