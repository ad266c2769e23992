import { systemEchoSpec } from '@synthstack/jobs'
import { defineJob } from '../types'

/**
 * Returns its payload. The template for new handlers: define the spec in `@synthstack/jobs`,
 * copy this file, and add it to `../registry.ts`.
 */
export const systemEcho = defineJob(systemEchoSpec, async (payload) => payload)
