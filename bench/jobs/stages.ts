// Where a job's time goes: each stage of the real path measured alone, on the same stack as
// `pnpm bench:jobs` (run: `pnpm --filter @synthstack/bench exec tsx jobs/stages.ts`). Not a
// benchmark with targets: a diagnosis aid. For each stage it prints requests/s, p50/p99 and the
// CPU seconds each process of the stack spent (the bench process hosts the Neon, Redis and QStash
// emulators; each `wrangler dev` is a Node process plus workerd processes).
//
//   neon      the API's job insert, straight to the Neon emulator's /sql (neon-http driver)
//   redis     a job event (RPUSH + EXPIRE pipeline), straight to the Redis emulator
//   qstash    enqueue to a paused QStash queue (publish + WAL commit, no delivery)
//   enqueue   POST /v1/jobs on the edge API with the normal lane paused (auth, rate limit,
//             insert, publish; nothing delivered)
//   drain     the lane resumed: the enqueue stage's backlog delivered to the worker (claim,
//             handler, complete, events), first claim → last completion
//   bare      a paused queue of messages to the worker's stateless route, then resumed
//   worker    signed requests straight to the worker for queued job rows (no QStash), with the
//             worker's Server-Timing split (claim, handler, complete)
import { readFileSync } from 'node:fs'
import { Redis } from '@upstash/redis'
import { jobsClient } from '../../tests/e2e/support/client'
import { cpuByGroup, cpuDelta } from './cpu'
import { PARALLELISM, startBenchStack } from './stack'

const N = Number(process.env.BENCH_JOBS ?? 1000)
const CLIENTS = Number(process.env.BENCH_JOBS_CLIENTS ?? 32)
const ONLY = process.env.STAGES?.split(',')

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN

async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await task(next++)
    }),
  )
}

/** Port (as passed on the command line) → 'api' | 'worker'. */
const wranglerPorts = new Map<string, string>()
const cpuByProcess = () => cpuByGroup(wranglerPorts)
const cpuSummary = (before: Map<string, number>, after: Map<string, number>) =>
  [...cpuDelta(before, after)].map(([k, v]) => `${k}=${v.toFixed(1)}s`).join(' ')

async function stage(
  name: string,
  run: () => Promise<{ count: number; ms: number; latencies?: number[]; note?: string }>,
) {
  if (ONLY && !ONLY.includes(name)) return
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  const before = cpuByProcess()
  console.log(`start ${name}`)
  const r = await run()
  const cpu = cpuSummary(before, cpuByProcess())
  const lat = (r.latencies ?? []).sort((a, b) => a - b)
  const perSecond = (r.count / r.ms) * 1000
  console.log(
    `${name.padEnd(8)} ${perSecond.toFixed(0).padStart(6)}/s` +
      (lat.length
        ? `  p50 ${quantile(lat, 0.5).toFixed(1)} ms  p99 ${quantile(lat, 0.99).toFixed(1)} ms`
        : '') +
      `  (load ${load})${r.note ? `  ${r.note}` : ''}\n         cpu: ${cpu}`,
  )
}

/** Runs `n` calls with CLIENTS at once; latencies with performance.now(). */
async function timed(n: number, call: (i: number) => Promise<void>) {
  const latencies: number[] = []
  const start = performance.now()
  await pool(n, CLIENTS, async (i) => {
    const t = performance.now()
    await call(i)
    latencies.push(performance.now() - t)
  })
  return { count: n, ms: performance.now() - start, latencies }
}

async function main() {
  const s = await startBenchStack()
  wranglerPorts.set(new URL(s.worker.url).port, 'worker')
  wranglerPorts.set(new URL(s.api.url).port, 'api')
  console.log(`backends neon=${s.stack.backends.neon} redis=${s.stack.backends.redis}`)
  const qstash = s.qstash.url
  const auth = { authorization: `Bearer ${s.qstash.token}` }
  const queue = async (name: string, paused: boolean) => {
    const r = await fetch(`${qstash}/v2/queues`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ queueName: name, parallelism: PARALLELISM, paused }),
    })
    if (!r.ok) throw new Error(`queue ${name}: ${r.status}`)
  }
  try {
    const { apiKey, workspaceId } = await s.newWorkspace()
    const client = jobsClient(s.api.url, apiKey)
    await pool(50, 10, async () => {
      const r = await client.enqueue({ type: 'system.noop', payload: {} })
      if (r.status !== 201) throw new Error(`warm-up enqueue failed: ${JSON.stringify(r.body)}`)
      await client.waitFor(r.body.id, ['succeeded'])
    })

    await stage('neon', () =>
      timed(N, async (i) => {
        await s.sql.query(
          `insert into jobs (workspace_id, type, payload, priority, max_attempts)
           values ($1, 'system.noop', $2, 'normal', 3) returning *`,
          [workspaceId, JSON.stringify({ data: i })],
        )
      }),
    )

    const redis = new Redis({
      url: s.stack.env.UPSTASH_REDIS_REST_URL,
      token: s.stack.env.UPSTASH_REDIS_REST_TOKEN,
      enableTelemetry: false,
      enableAutoPipelining: false,
    })
    await stage('redis', () =>
      timed(N, async (i) => {
        const p = redis.pipeline()
        p.rpush(`stage:${i % 100}`, JSON.stringify({ type: 'status', i }))
        p.expire(`stage:${i % 100}`, 60)
        await p.exec()
      }),
    )

    await stage('qstash', async () => {
      await queue('stage-paused', true)
      const r = await timed(N, async (i) => {
        const response = await fetch(
          `${qstash}/v2/enqueue/stage-paused/${s.worker.url}/jobs/system.noop`,
          {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ data: i }),
          },
        )
        await response.arrayBuffer()
      })
      await fetch(`${qstash}/v2/queues/stage-paused`, { method: 'DELETE', headers: auth })
      return r
    })

    const ids: string[] = []
    await stage('enqueue', async () => {
      await queue('jobs-normal', true)
      let encoding: string | null = null
      const r = await timed(N, async (i) => {
        const r = await client.enqueue({ type: 'system.noop', payload: { data: i } })
        if (r.status !== 201) throw new Error(`enqueue ${r.status}`)
        encoding = r.headers.get('content-encoding')
        ids.push(r.body.id)
      })
      return { ...r, note: `response content-encoding: ${encoding ?? 'none'}` }
    })

    await stage('drain', async () => {
      if (ids.length === 0) return { count: 0, ms: 1 }
      await queue('jobs-normal', false)
      for (;;) {
        const [row] = (await s.sql.query(
          `select count(*)::int as n from jobs where id = any($1::uuid[]) and status = 'succeeded'`,
          [ids],
        )) as { n: number }[]
        if ((row?.n ?? 0) >= ids.length) break
        await sleep(100)
      }
      const [span] = (await s.sql.query(
        `select (extract(epoch from max(finished_at) - min(started_at)) * 1000)::float8 as ms,
           (select count(*)::int from job_attempts a where a.job_id = any($1::uuid[])) as attempts
         from jobs where id = any($1::uuid[])`,
        [ids],
      )) as { ms: number; attempts: number }[]
      return { count: ids.length, ms: span?.ms ?? 1, note: `attempts ${span?.attempts}` }
    })

    await stage('bare', async () => {
      await queue('stage-bare', true)
      const sent = new Set<string>()
      await pool(N, CLIENTS, async (i) => {
        const response = await fetch(
          `${qstash}/v2/enqueue/stage-bare/${s.worker.url}/jobs/system.noop`,
          {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ data: i }),
          },
        )
        sent.add(((await response.json()) as { messageId: string }).messageId)
      })
      const start = performance.now()
      await queue('stage-bare', false)
      for (;;) {
        const q = (await (
          await fetch(`${qstash}/v2/queues/stage-bare`, { headers: auth })
        ).json()) as {
          lag: number
        }
        if (q.lag === 0) break
        await sleep(20)
      }
      return { count: sent.size, ms: performance.now() - start }
    })

    const { Signer } = await import('../../tools/emulators/qstash/src/signing')
    const signer = new Signer(s.qstash.currentSigningKey)
    const direct = (workerUrl: string) => async () => {
      const rows = (await s.sql.query(
        `insert into jobs (workspace_id, type, payload, priority, max_attempts)
         select $1, 'system.noop', '{}'::jsonb, 'normal', 3 from generate_series(1, $2)
         returning id::text`,
        [workspaceId, N],
      )) as { id: string }[]
      const splits = new Map<string, number[]>()
      const r = await timed(rows.length, async (i) => {
        const url = `${workerUrl}/jobs/system.noop?job_id=${rows[i]?.id}`
        const body = Buffer.from('{}')
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'upstash-signature': signer.sign(url, body),
            'upstash-message-id': `msg_stage_${i}`,
            'upstash-retried': '0',
          },
          body,
        })
        await response.arrayBuffer()
        if (response.status !== 200) throw new Error(`worker ${response.status}`)
        for (const part of (response.headers.get('server-timing') ?? '').split(',')) {
          const m = /^\s*([\w-]+);dur=([\d.]+)/.exec(part)
          if (m?.[1] && m[2]) splits.set(m[1], [...(splits.get(m[1]) ?? []), Number(m[2])])
        }
      })
      const note = [...splits]
        .map(
          ([k, v]) =>
            `${k} p50 ${quantile(
              v.sort((a, b) => a - b),
              0.5,
            ).toFixed(1)}`,
        )
        .join(', ')
      return { ...r, note: note ? `server-timing: ${note}` : 'no server-timing' }
    }
    await stage('worker', direct(s.worker.url))
  } finally {
    await s.close()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
