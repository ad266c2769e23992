// The stack both jobs benchmarks run on: the real Workers and emulators, configured alike.
import { startJobsStack } from '../../tests/e2e/support/jobs-stack'

/** The normal lane's parallelism for this run (JOBS_PARALLELISM_NORMAL). */
export const PARALLELISM = Number(process.env.BENCH_JOBS_PARALLELISM ?? 32)
/** BENCH_JOBS_DEVTOOLS=1: Workers under the wrangler dev CLI, devtools inspector on. */
export const DEVTOOLS = process.env.BENCH_JOBS_DEVTOOLS === '1'

export function startBenchStack() {
  return startJobsStack({
    timeScale: 1,
    persistQStash: true,
    qstashMaxConcurrency: 100,
    apiVars: { JOBS_PARALLELISM_NORMAL: String(PARALLELISM), LOG_LEVEL: 'error' },
    devtools: DEVTOOLS,
  })
}
