// pnpm bench:jobs — 2,000 no-op jobs through the real path: POST /v1/jobs on the edge API
// (wrangler's dev server) → QStash emulator (priority lane) → jobs worker (wrangler's dev server)
// → claim, handler, completion in Postgres (Neon emulator) and progress events in Redis.
// Baseline, same run: the QStash emulator delivering the same number of messages, through a lane
// with the same parallelism, to the worker's stateless no-op route (signature check, no DB, no
// Redis). Backends come from the environment (NEON_EMULATOR_BACKEND, REDIS_EMULATOR_BACKEND).
//
// Two phases, each for both paths:
// - saturated: N jobs from CLIENTS callers, each sending its next as soon as the last is
//   answered: throughput (`jobs_per_s`). Its latency is mostly CLIENTS / throughput (Little's
//   law: 32 callers at 100 jobs/s wait ~320 ms whatever the path costs), so it is reported as
//   `job_latency_saturated_*`, for information.
// - steady: N jobs offered at a fixed RATE (open loop, at most CLIENTS in flight): the latency
//   a job sees on a loaded but not overloaded system (`job_latency_p50_ms`). Latency is measured
//   from the moment a job was due to be sent, so a caller held up by a slow answer counts the
//   wait.
//
// The Workers run on wrangler's dev server with the devtools inspector off (see
// `startWranglerDev` in @synthstack/testing); BENCH_JOBS_DEVTOOLS=1 runs them under the `wrangler dev` CLI,
// inspector on, as before.
import { readFileSync } from 'node:fs'
import { jobsClient } from '../../tests/e2e/support/client'
import { cpuByGroup, cpuDelta, totalCpu } from './cpu'
import { DEVTOOLS, PARALLELISM, startBenchStack } from './stack'

const N = Number(process.env.BENCH_JOBS ?? 2000)
/** Enqueue requests in flight at once (the callers). */
const CLIENTS = Number(process.env.BENCH_JOBS_CLIENTS ?? 32)
/** Jobs per second offered in the steady phase. */
const RATE = Number(process.env.BENCH_JOBS_RATE ?? 50)
const DEADLINE_MS = Number(process.env.BENCH_JOBS_DEADLINE_MS ?? 240_000)

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'NaN')
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

/**
 * Runs `task(i, dueAt)` for i in [0, n) with at most `concurrency` at once. With a `rate`, task i
 * is due at start + i / rate (it waits for its time and for a free slot); without, as soon as a
 * slot frees. `dueAt` is the wall-clock time (ms) the task was due: latencies start there.
 */
async function pool(
  n: number,
  concurrency: number,
  task: (i: number, dueAt: number) => Promise<void>,
  rate?: number,
) {
  const start = Date.now()
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++
        const dueAt = rate ? start + (i * 1000) / rate : Date.now()
        const wait = dueAt - Date.now()
        if (wait > 0) await sleep(wait)
        await task(i, dueAt)
      }
    }),
  )
}

interface Figures {
  p50: number
  p99: number
  perSecond: number
  lost: number
  duplicated: number
  /** Load average (1, 5, 15 min) when the phase ended: other work on the machine shows here. */
  load: string
  /** CPU seconds per group of processes during the phase (see cpu.ts). */
  cpu?: Map<string, number>
  /** Real path only: enqueue requests answered per second, and refused enqueues. */
  enqueuePerSecond?: number
  enqueueErrors?: number
  /** Real path only: jobs/s from the first claim to the last completion (the worker side). */
  workerPerSecond?: number
}

type Client = ReturnType<typeof jobsClient>
type Sql = { query(text: string, params?: unknown[]): Promise<unknown> }

async function main() {
  const s = await startBenchStack()
  const backends = `neon=${s.stack.backends.neon} redis=${s.stack.backends.redis}`
  try {
    // Each phase gets its own workspace, so its progress is one indexed count.
    const workspace = async () => {
      const { apiKey, workspaceId } = await s.newWorkspace()
      return { client: jobsClient(s.api.url, apiKey), workspaceId }
    }
    // Warm both Workers (isolates, lanes, connections) before timing anything.
    const warm = await workspace()
    await pool(50, 10, async () => {
      const r = await warm.client.enqueue({ type: 'system.noop', payload: {} })
      if (r.status !== 201) throw new Error(`warm-up enqueue failed: ${JSON.stringify(r.body)}`)
      await warm.client.waitFor(r.body.id, ['succeeded'])
    })

    const qstash = { url: s.qstash.url, token: s.qstash.token, worker: s.worker.url }
    const trees = new Map([
      [new URL(s.api.url).port, 'api'],
      [new URL(s.worker.url).port, 'worker'],
    ])
    const withCpu = async (run: () => Promise<Figures>): Promise<Figures> => {
      const before = cpuByGroup(trees)
      const figures = await run()
      return { ...figures, cpu: cpuDelta(before, cpuByGroup(trees)) }
    }
    const baseline = await withCpu(() => runBaseline(qstash, 'bench-baseline'))
    const realWorkspace = await workspace()
    const real = await withCpu(() => runJobs(realWorkspace, s.sql))
    const steadyBaseline = await runBaseline(qstash, 'bench-baseline-steady', RATE)
    const steady = await runJobs(await workspace(), s.sql, RATE)

    console.log(
      `\njobs benchmark (${backends}; ${N} jobs, ${CLIENTS} callers, lane ${PARALLELISM}; ` +
        `workers ${DEVTOOLS ? 'under the wrangler dev CLI (devtools on)' : 'on wrangler dev server, devtools off'})`,
    )
    console.log(
      'path                                    p50 ms   p99 ms   jobs/s   lost  dup  load avg',
    )
    const row = (name: string, f: Figures) =>
      console.log(
        `${name.padEnd(39)} ${fmt(f.p50).padStart(6)} ${fmt(f.p99).padStart(8)} ${fmt(f.perSecond, 0).padStart(8)} ${String(f.lost).padStart(6)} ${String(f.duplicated).padStart(4)}  ${f.load}`,
      )
    row('saturated: QStash → bare Worker route', baseline)
    row('saturated: API → QStash → worker', real)
    row(`steady ${RATE}/s: QStash → bare Worker route`, steadyBaseline)
    row(`steady ${RATE}/s: API → QStash → worker`, steady)
    console.log(
      `  saturated: enqueue (API) ${fmt(real.enqueuePerSecond ?? 0, 0)}/s, ${real.enqueueErrors} refused; ` +
        `worker side (first claim → last completion) ${fmt(real.workerPerSecond ?? 0, 0)} jobs/s`,
    )
    // CPU per job, all processes of the stack: what bounds jobs/s on a machine of known cores.
    const perJob = (f: Figures) => (totalCpu(f.cpu ?? new Map()) * 1000) / N
    const breakdown = (f: Figures) =>
      [...(f.cpu ?? [])]
        .map(([group, cpu]) => `${group} ${((cpu * 1000) / N).toFixed(2)}`)
        .join(', ')
    console.log(`  saturated CPU ms per job: ${fmt(perJob(real), 2)} (${breakdown(real)})`)
    console.log(
      `  baseline CPU ms per message: ${fmt(perJob(baseline), 2)} (${breakdown(baseline)})`,
    )
    const bench = (name: string, value: string, unit: string, base: string, target: string) =>
      console.log(`BENCH ${name} ${value} ${unit} baseline=${base} target=${target}`)
    bench('job_latency_p50_ms', fmt(steady.p50), 'ms', fmt(steadyBaseline.p50), '<=50')
    bench('job_latency_p99_ms', fmt(steady.p99), 'ms', fmt(steadyBaseline.p99), 'info')
    bench('jobs_per_s', fmt(real.perSecond, 0), 'jobs/s', fmt(baseline.perSecond, 0), '>=300')
    bench('job_latency_saturated_p50_ms', fmt(real.p50), 'ms', fmt(baseline.p50), 'info')
    bench('job_latency_saturated_p99_ms', fmt(real.p99), 'ms', fmt(baseline.p99), 'info')
    bench(
      'job_enqueue_per_s',
      fmt(real.enqueuePerSecond ?? 0, 0),
      'req/s',
      fmt(baseline.perSecond, 0),
      'info',
    )
    bench(
      'job_worker_per_s',
      fmt(real.workerPerSecond ?? 0, 0),
      'jobs/s',
      fmt(baseline.perSecond, 0),
      'info',
    )
    bench('job_cpu_ms_per_job', fmt(perJob(real), 2), 'ms', fmt(perJob(baseline), 2), 'info')
    const lostOrDuplicated = (f: Figures) => f.lost + f.duplicated
    bench(
      'lost_or_duplicated',
      String(lostOrDuplicated(real) + lostOrDuplicated(steady)),
      'jobs',
      String(lostOrDuplicated(baseline) + lostOrDuplicated(steadyBaseline)),
      '=0',
    )
  } finally {
    await s.close()
  }
}

/**
 * The baseline: N messages published to a QStash queue with the lane's parallelism, delivered to
 * `POST /jobs/system.noop` without a job id (verify signature, validate, run the no-op; no DB).
 * Latency = publish due → delivery answered (the emulator's DELIVERED event). Completion is
 * watched through the queue's lag (cheap); the event log is read once at the end.
 */
async function runBaseline(
  qstash: { url: string; token: string; worker: string },
  lane: string,
  rate?: number,
): Promise<Figures> {
  const auth = { authorization: `Bearer ${qstash.token}` }
  const upsert = await fetch(`${qstash.url}/v2/queues`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ queueName: lane, parallelism: PARALLELISM }),
  })
  if (!upsert.ok) throw new Error(`queue upsert failed: ${upsert.status}`)
  const sentAt = new Map<string, number>()
  const startedWall = Date.now()
  await pool(
    N,
    CLIENTS,
    async (i, dueAt) => {
      const response = await fetch(
        `${qstash.url}/v2/enqueue/${lane}/${qstash.worker}/jobs/system.noop`,
        {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', 'upstash-retries': '3' },
          body: JSON.stringify({ data: i }),
        },
      )
      const { messageId } = (await response.json()) as { messageId: string }
      sentAt.set(messageId, dueAt)
    },
    rate,
  )
  const deadline = Date.now() + DEADLINE_MS
  while (Date.now() < deadline) {
    const queue = (await (
      await fetch(`${qstash.url}/v2/queues/${lane}`, { headers: auth })
    ).json()) as {
      lag: number
    }
    if (queue.lag === 0) break
    await sleep(100)
  }
  const deliveredAt = new Map<string, number>()
  const duplicates = new Map<string, number>()
  let cursor: string | undefined
  do {
    const url = new URL(`${qstash.url}/v2/events`)
    url.searchParams.set('queueName', lane)
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
  const lastDelivered = Math.max(...deliveredAt.values())
  const latencies = [...deliveredAt].map(([id, at]) => at - (sentAt.get(id) ?? at))
  latencies.sort((a, b) => a - b)
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    perSecond: (deliveredAt.size / Math.max(1, lastDelivered - startedWall)) * 1000,
    lost: N - deliveredAt.size,
    duplicated: [...duplicates.values()].reduce((a, b) => a + b, 0),
    load: loadAverage(),
  }
}

/**
 * The real path: N `system.noop` jobs enqueued through the API by CLIENTS callers (at `rate`
 * per second if given). Latency = request due → the worker claimed the job and ran its handler
 * (`started_at`, set by the claim just before the handler). Lost = not succeeded by the
 * deadline; duplicated = handler runs beyond one per job (attempt rows). Progress is polled
 * with one indexed count per second: the figures come from the rows' timestamps, not from when
 * the poll noticed, and a faster poll only takes CPU from the emulators it measures.
 */
async function runJobs(
  { client, workspaceId }: { client: Client; workspaceId: string },
  sql: Sql,
  rate?: number,
): Promise<Figures> {
  const sentAt = new Map<string, number>()
  const startedWall = Date.now()
  const failures: string[] = []
  await pool(
    N,
    CLIENTS,
    async (i, dueAt) => {
      const r = await client.enqueue({ type: 'system.noop', payload: { data: i } })
      if (r.status !== 201) {
        failures.push(`${r.status} ${JSON.stringify(r.body).slice(0, 200)}`)
        return
      }
      sentAt.set(r.body.id as string, dueAt)
    },
    rate,
  )
  const enqueuePerSecond = (N / Math.max(1, Date.now() - startedWall)) * 1000
  if (failures.length > 0) console.error(`${failures.length} enqueues failed, e.g. ${failures[0]}`)
  const ids = [...sentAt.keys()]
  const deadline = Date.now() + DEADLINE_MS
  while (Date.now() < deadline) {
    const [row] = (await sql.query(
      `select count(*)::int as n from jobs where workspace_id = $1 and status = 'succeeded'`,
      [workspaceId],
    )) as { n: number }[]
    if ((row?.n ?? 0) >= ids.length) break
    await sleep(1000)
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
     from jobs j where j.workspace_id = $1`,
    [workspaceId],
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
    load: loadAverage(),
    enqueuePerSecond,
    enqueueErrors: failures.length,
    workerPerSecond: (succeeded / Math.max(1, lastFinished - firstStarted)) * 1000,
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
