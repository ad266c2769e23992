import { systemNoopSpec } from '@synthstack/jobs'
import { defineJob } from '../types'

/** Does nothing (the jobs benchmark measures the path around it). */
export const systemNoop = defineJob(systemNoopSpec, async () => null)
