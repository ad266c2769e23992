import { systemFlakySpec } from '@synthstack/jobs'
import { defineJob } from '../types'

/**
 * Fails its first `fail_times` attempts, then succeeds. Deterministic and stateless: it compares
 * `Upstash-Retried` with `fail_times`. Test-only: exercises QStash retries, backoff and the DLQ.
 */
export const systemFlaky = defineJob(systemFlakySpec, async (payload, ctx) => {
  if (ctx.retried < payload.fail_times) {
    throw new Error(`system.flaky: attempt ${ctx.retried + 1} of ${payload.fail_times} fails`)
  }
  return { attempts: ctx.retried + 1, data: payload.data ?? null }
})
