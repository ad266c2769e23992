// pnpm bench:jobs — 2,000 no-op jobs through the real path: POST /v1/jobs on the edge API
// (wrangler dev) → QStash emulator (priority lane) → jobs worker (wrangler dev) → claim, handler,
// completion in Postgres (Neon emulator) and progress events in Redis. Baseline, same run: the
// QStash emulator delivering the same number of messages, through a lane with the same
// parallelism, to the worker's stateless no-op route (signature check, no DB, no Redis).
// Backends come from the environment (NEON_EMULATOR_BACKEND, REDIS_EMULATOR_BACKEND).
import { jobsClient } from '../../tests/e2e/support/client'
import { startJobsStack } from '../../tests/e2e/support/jobs-stack'

const N = Number(process.env.BENCH_JOBS ?? 2000)
/** Enqueue requests in flight at once (the callers). */
const CLIENTS = Number(process.env.BENCH_JOBS_CLIENTS ?? 32)
/** The normal lane's parallelism for this run (JOBS_PARALLELISM_NORMAL). */
const PARALLELISM = Number(process.env.BENCH_JOBS_PARALLELISM ?? 32)
const DEADLINE_MS = Number(process.env.BENCH_JOBS_DEADLINE_MS ?? 240_000)
const LANE = 'bench-baseline'

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'NaN')

/** Runs `task(i)` for i in [0, n) with `concurrency` at once. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await task(next++)
    }),
  )
}

interface Figures {
  p50: number
  p99: number
  perSecond: number
  lost: number
  duplicated: number
  /** Real path only: enqueue requests answered per second, and refused enqueues. */
  enqueuePerSecond?: number
  enqueueErrors?: number
  /** Real path only: jobs/s from the first claim to the last completion (the worker side). */
  workerPerSecond?: number
}

async function main() {
  const s = await startJobsStack({
    timeScale: 1,
    persistQStash: true,
    qstashMaxConcurrency: 100,
    apiVars: { JOBS_PARALLELISM_NORMAL: String(PARALLELISM), LOG_LEVEL: 'error' },
  })
  const backends = `neon=${s.stack.backends.neon} redis=${s.stack.backends.redis}`
  try {
    const { apiKey } = await s.newWorkspace()
    const client = jobsClient(s.api.url, apiKey)
    // Warm both Workers (isolates, lanes, connections) before timing anything.
    await pool(50, 10, async () => {
      const r = await client.enqueue({ type: 'system.noop', payload: {} })
      if (r.status !== 201) throw new Error(`warm-up enqueue failed: ${JSON.stringify(r.body)}`)
      await client.waitFor(r.body.id, ['succeeded'])
    })

    const baseline = await runBaseline(s.qstash.url, s.qstash.token, s.worker.url)
    const real = await runJobs(client, s.sql)

    console.log(
      `\njobs benchmark (${backends}; ${N} jobs, ${CLIENTS} callers, lane ${PARALLELISM})`,
    )
    console.log('path                               p50 ms   p99 ms   jobs/s   lost  dup')
    const row = (name: string, f: Figures) =>
      console.log(
        `${name.padEnd(34)} ${fmt(f.p50).padStart(6)} ${fmt(f.p99).padStart(8)} ${fmt(f.perSecond, 0).padStart(8)} ${String(f.lost).padStart(6)} ${String(f.duplicated).padStart(4)}`,
      )
    row('QStash → bare Worker route', baseline)
    row('API → QStash → worker → handler', real)
    console.log(
      `  enqueue (API) ${fmt(real.enqueuePerSecond ?? 0, 0)}/s, ${real.enqueueErrors} refused; ` +
        `worker side (first claim → last completion) ${fmt(real.workerPerSecond ?? 0, 0)} jobs/s`,
    )
    console.log(
      `BENCH job_latency_p50_ms ${fmt(real.p50)} ms baseline=${fmt(baseline.p50)} target=<=50`,
    )
    console.log(
      `BENCH job_latency_p99_ms ${fmt(real.p99)} ms baseline=${fmt(baseline.p99)} target=info`,
    )
    console.log(
      `BENCH jobs_per_s ${fmt(real.perSecond, 0)} jobs/s baseline=${fmt(baseline.perSecond, 0)} target=>=300`,
    )
    console.log(
      `BENCH job_enqueue_per_s ${fmt(real.enqueuePerSecond ?? 0, 0)} req/s baseline=${fmt(baseline.perSecond, 0)} target=info`,
    )
    console.log(
      `BENCH job_worker_per_s ${fmt(real.workerPerSecond ?? 0, 0)} jobs/s baseline=${fmt(baseline.perSecond, 0)} target=info`,
    )
    console.log(
      `BENCH lost_or_duplicated ${real.lost + real.duplicated} jobs baseline=${baseline.lost + baseline.duplicated} target==0`,
    )
  } finally {
    await s.close()
  }
}

/**
 * The baseline: N messages published to a QStash queue with the lane's parallelism, delivered to
 * `POST /jobs/system.noop` without a job id (verify signature, validate, run the no-op; no DB).
 * Latency = publish sent → delivery answered (the emulator's DELIVERED event).
 */
async function runBaseline(qstashUrl: string, token: string, workerUrl: string): Promise<Figures> {
  const auth = { authorization: `Bearer ${token}` }
  const upsert = await fetch(`${qstashUrl}/v2/queues`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ queueName: LANE, parallelism: PARALLELISM }),
  })
  if (!upsert.ok) throw new Error(`queue upsert failed: ${upsert.status}`)
  const sentAt = new Map<string, number>()
  const startedWall = Date.now()
  await pool(N, CLIENTS, async (i) => {
    const t = Date.now()
    const response = await fetch(`${qstashUrl}/v2/enqueue/${LANE}/${workerUrl}/jobs/system.noop`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'upstash-retries': '3' },
      body: JSON.stringify({ data: i }),
    })
    const { messageId } = (await response.json()) as { messageId: string }
    sentAt.set(messageId, t)
  })
  // Wait for every message to be delivered, then read the delivery times from the event log.
  const deliveredAt = new Map<string, number>()
  const duplicates = new Map<string, number>()
  const deadline = Date.now() + DEADLINE_MS
  while (Date.now() < deadline) {
    deliveredAt.clear()
    duplicates.clear()
    let cursor: string | undefined
    do {
      const url = new URL(`${qstashUrl}/v2/events`)
      url.searchParams.set('queueName', LANE)
      url.searchParams.set('state', 'DELIVERED')
      url.searchParams.set('count', '1000')
      if (cursor) url.searchParams.set('cursor', cursor)
      const page = (await (await fetch(url, { headers: auth })).json()) as {
        cursor?: string
        events: { messageId: string; time: number }[]
      }
      for (const e of page.events) {
        if (!sentAt.has(e.messageId)) continue
        if (deliveredAt.has(e.messageId))
          duplicates.set(e.messageId, (duplicates.get(e.messageId) ?? 0) + 1)
        deliveredAt.set(e.messageId, Math.min(e.time, deliveredAt.get(e.messageId) ?? e.time))
      }
      cursor = page.cursor
    } while (cursor)
    if (deliveredAt.size >= sentAt.size) break
    await sleep(100)
  }
  const lastDelivered = Math.max(...deliveredAt.values())
  const latencies = [...deliveredAt].map(([id, at]) => at - (sentAt.get(id) ?? at))
  latencies.sort((a, b) => a - b)
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    perSecond: (deliveredAt.size / Math.max(1, lastDelivered - startedWall)) * 1000,
    lost: N - deliveredAt.size,
    duplicated: [...duplicates.values()].reduce((a, b) => a + b, 0),
  }
}

type Sql = { query(text: string, params?: unknown[]): Promise<unknown> }

/**
 * The real path: N `system.noop` jobs enqueued through the API by CLIENTS callers. Latency =
 * request sent → the worker claimed the job and ran its handler (`started_at`, set by the claim
 * just before the handler). Lost = not succeeded by the deadline; duplicated = handler runs
 * beyond one per job (attempt rows).
 */
async function runJobs(client: ReturnType<typeof jobsClient>, sql: Sql): Promise<Figures> {
  const sentAt = new Map<string, number>()
  const startedWall = Date.now()
  const failures: string[] = []
  await pool(N, CLIENTS, async (i) => {
    const t = Date.now()
    const r = await client.enqueue({ type: 'system.noop', payload: { data: i } })
    if (r.status !== 201) {
      failures.push(`${r.status} ${JSON.stringify(r.body).slice(0, 200)}`)
      return
    }
    sentAt.set(r.body.id as string, t)
  })
  const enqueuePerSecond = (N / Math.max(1, Date.now() - startedWall)) * 1000
  if (failures.length > 0) console.error(`${failures.length} enqueues failed, e.g. ${failures[0]}`)
  const ids = [...sentAt.keys()]
  const deadline = Date.now() + DEADLINE_MS
  let done = 0
  while (Date.now() < deadline) {
    const [row] = (await sql.query(
      `select count(*)::int as n from jobs where id = any($1::uuid[]) and status = 'succeeded'`,
      [ids],
    )) as { n: number }[]
    done = row?.n ?? 0
    if (done >= ids.length) break
    await sleep(100)
  }
  const rows = (await sql.query(
    `select j.id::text, j.status,
       (extract(epoch from j.started_at) * 1000)::float8 as started,
       (extract(epoch from j.finished_at) * 1000)::float8 as finished,
       (select count(*)::int from job_attempts a
        where a.job_id = j.id and a.status = 'succeeded') as runs,
       (select count(*)::int from job_attempts a
        where a.job_id = j.id and a.status <> 'succeeded') as retried,
       (select min(a.error) from job_attempts a where a.job_id = j.id) as error
     from jobs j where j.id = any($1::uuid[])`,
    [ids],
  )) as {
    id: string
    status: string
    started: number
    finished: number
    runs: number
    retried: number
    error: string | null
  }[]
  const retried = rows.filter((r) => r.retried > 0)
  if (retried.length > 0) {
    console.error(
      `${retried.length} jobs needed a retry (a failed attempt, then QStash redelivered), e.g.: ${retried.find((r) => r.error)?.error ?? 'no error recorded'}`,
    )
  }
  const latencies: number[] = []
  let lastFinished = 0
  let firstStarted = Number.POSITIVE_INFINITY
  // An effect is a completed handler run: more than one succeeded attempt for a job is a duplicate.
  let duplicated = 0
  let succeeded = 0
  for (const r of rows) {
    duplicated += Math.max(0, r.runs - 1)
    if (r.status !== 'succeeded') continue
    succeeded++
    latencies.push(r.started - (sentAt.get(r.id) ?? r.started))
    lastFinished = Math.max(lastFinished, r.finished)
    firstStarted = Math.min(firstStarted, r.started)
  }
  latencies.sort((a, b) => a - b)
  const unfinished = rows.filter((r) => r.status !== 'succeeded')
  if (unfinished.length > 0) {
    const byStatus: Record<string, number> = {}
    for (const r of unfinished) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1
    console.error(`not succeeded: ${JSON.stringify(byStatus)}`)
  }
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    perSecond: (succeeded / Math.max(1, lastFinished - startedWall)) * 1000,
    // Accepted (201) but never run; a refused enqueue is an error the caller saw, counted apart.
    lost: ids.length - succeeded,
    duplicated,
    enqueuePerSecond,
    enqueueErrors: failures.length,
    workerPerSecond: (succeeded / Math.max(1, lastFinished - firstStarted)) * 1000,
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
