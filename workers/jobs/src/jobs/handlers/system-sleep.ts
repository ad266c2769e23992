import { systemSleepSpec } from '@synthstack/jobs'
import { defineJob } from '../types'

/** Sleeps `ms` in `steps` equal steps, reporting progress after each. Test-only. */
export const systemSleep = defineJob(systemSleepSpec, async (payload, ctx) => {
  const step = payload.ms / payload.steps
  for (let i = 1; i <= payload.steps; i++) {
    await new Promise((resolve) => setTimeout(resolve, step))
    if (i < payload.steps) {
      await ctx.progress(Math.floor((i / payload.steps) * 100), `step ${i} of ${payload.steps}`)
    }
  }
  return { slept_ms: payload.ms, steps: payload.steps, data: payload.data ?? null }
})
