import * as z from 'zod'
import { defineJob } from '../types'

/**
 * Returns its payload. Used by health checks, the jobs benchmark and as the template for new
 * handlers: copy this file, rename the type, and add it to `../registry.ts`.
 */
export const systemEcho = defineJob({
  type: 'system.echo',
  description: 'Returns its payload unchanged.',
  payload: z.strictObject({
    message: z.string().max(10_000),
    /** Anything JSON, returned as is (e.g. a send timestamp for latency measurements). */
    data: z.json().optional(),
  }),
  async handle(payload) {
    return payload
  },
})
