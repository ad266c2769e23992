// Upstash REST emulator throughput. The emulator runs as its own process (as `pnpm dev` runs it);
// 50 concurrent clients SET then GET 20,000 keys through @upstash/redis with auto-pipelining on
// (its default). Headline: the 50 callers share one client, as concurrent requests in one Worker
// isolate do, so auto-pipelining merges their calls into /pipeline requests (with 50 separate
// clients that each wait for their answer, auto-pipelining has nothing to merge). Also reported:
// 50 separate @upstash/redis instances, one command per HTTP request; there the client's fetch
// costs about three times the emulator's CPU per request (printed as redis_emu_cpu_us_per_request),
// so that figure measures the client side.
// Baseline: the same SETs and GETs with ioredis straight to the real Redis (one connection, which
// pipelines concurrent commands the same way). The headline uses the emulator over the real Redis
// when one answers (else the mock backend); the mock backend's figure is printed as well.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { redisEmulatorOptionsFromEnv } from '@synthstack/emulator-redis'
import { Redis as Upstash } from '@upstash/redis'
import { Redis as IORedis } from 'ioredis'

const KEYS = 20_000
const CLIENTS = 50
/** Each phase stops early past this bound, so the whole benchmark stays well under 30 s. */
const PHASE_LIMIT_MS = 2_000

interface Phase {
  ops: number
  ms: number
  perSecond: number
}

async function loops(count: number, work: (loop: number, deadline: number) => Promise<number>) {
  const start = performance.now()
  const deadline = start + PHASE_LIMIT_MS
  const done = await Promise.all(Array.from({ length: count }, (_, i) => work(i, deadline)))
  const ms = performance.now() - start
  const ops = done.reduce((a, b) => a + b, 0)
  return { ops, ms, perSecond: Math.round((ops / ms) * 1000) } satisfies Phase
}

function keysOf(prefix: string, loop: number): string[] {
  const keys: string[] = []
  for (let i = loop; i < KEYS; i += CLIENTS) keys.push(`${prefix}${i}`)
  return keys
}

interface RunningEmulator {
  url: string
  token: string
  pid: number
  stop(): Promise<void>
}

/** CPU time a process has used, in ms (Linux /proc; undefined elsewhere). */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime, in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return undefined
  }
}

/** CPU per request on each side of the 50-separate-clients phase (one command per request). */
interface CpuSplit {
  emulatorUs: number
  clientUs: number
}

/** Starts the emulator's CLI as a child process on a free port. */
async function spawnEmulator(
  backend: 'mock' | 'redis',
  redisUrl: string,
): Promise<RunningEmulator> {
  const require = createRequire(import.meta.url)
  const cli = join(dirname(require.resolve('@synthstack/emulator-redis')), 'cli.ts')
  const token = randomUUID()
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', cli], {
    env: {
      ...process.env,
      REDIS_EMULATOR_PORT: '0',
      REDIS_EMULATOR_TOKEN: token,
      REDIS_EMULATOR_BACKEND: backend,
      REDIS_EMULATOR_REDIS_URL: redisUrl,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error('redis emulator did not start')), 20_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk
      const match = /ready on (http:\/\/\S+)/.exec(out)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
    child.on('exit', (code) => reject(new Error(`redis emulator exited with ${code}`)))
  })
  return {
    url,
    token,
    pid: child.pid as number,
    stop: () =>
      new Promise<void>((resolve) => {
        child.on('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

async function setAll(client: Upstash, prefix: string): Promise<Phase> {
  return loops(CLIENTS, async (loop, deadline) => {
    let n = 0
    for (const key of keysOf(prefix, loop)) {
      await client.set(key, `value-${key}`)
      n += 1
      if (performance.now() > deadline) break
    }
    return n
  })
}

async function getAll(clientFor: (loop: number) => Upstash, prefix: string): Promise<Phase> {
  let wrong = 0
  const get = await loops(CLIENTS, async (loop, deadline) => {
    const client = clientFor(loop)
    let n = 0
    for (const key of keysOf(prefix, loop)) {
      const value = await client.get<string>(key)
      if (value !== null && value !== `value-${key}`) wrong += 1
      n += 1
      if (performance.now() > deadline) break
    }
    return n
  })
  if (wrong > 0) throw new Error(`${wrong} GETs answered a wrong value`)
  return get
}

/**
 * The emulator alone, without @upstash/redis and fetch on the client side: 8 keep-alive
 * connections posting /pipeline bodies of 50 GETs with node:http.
 */
async function rawPipelines(emulator: RunningEmulator, prefix: string): Promise<Phase> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
  const url = new URL(emulator.url)
  const post = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: '/pipeline',
          method: 'POST',
          agent,
          headers: { authorization: `Bearer ${emulator.token}`, 'upstash-encoding': 'base64' },
        },
        (res) => {
          res.resume()
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error('failed'))))
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  try {
    return await loops(8, async (loop, deadline) => {
      let n = 0
      for (let start = loop * 50; start < KEYS; start += 8 * 50) {
        const body = JSON.stringify(
          Array.from({ length: 50 }, (_, i) => ['GET', `${prefix}${start + i}`]),
        )
        await post(body)
        n += 50
        if (performance.now() > deadline) break
      }
      return n
    })
  } finally {
    agent.destroy()
  }
}

async function runEmulator(backend: 'mock' | 'redis', redisUrl: string) {
  const emulator = await spawnEmulator(backend, redisUrl)
  const options = { url: emulator.url, token: emulator.token, enableTelemetry: false }
  const shared = new Upstash(options)
  const separate = Array.from({ length: CLIENTS }, () => new Upstash(options))
  const prefix = `bench:redis:${process.pid}:${Date.now()}:`
  try {
    const set = await setAll(shared, prefix)
    const get = await getAll(() => shared, prefix)
    const emulatorCpu = processCpuMs(emulator.pid)
    const clientCpu = process.cpuUsage()
    const unbatchedGet = await getAll((loop) => separate[loop] as Upstash, prefix)
    const emulatorCpuAfter = processCpuMs(emulator.pid)
    const clientUsed = process.cpuUsage(clientCpu)
    const cpu: CpuSplit | undefined =
      emulatorCpu === undefined || emulatorCpuAfter === undefined
        ? undefined
        : {
            emulatorUs: ((emulatorCpuAfter - emulatorCpu) * 1000) / unbatchedGet.ops,
            clientUs: (clientUsed.user + clientUsed.system) / unbatchedGet.ops,
          }
    const pipelineGet = await rawPipelines(emulator, prefix)
    // Clean up what we wrote, through the emulator itself.
    for (let i = 0; i < KEYS; i += 1000) {
      const count = Math.min(1000, KEYS - i)
      await shared.del(...Array.from({ length: count }, (_, j) => `${prefix}${i + j}`))
    }
    return { set, get, unbatchedGet, pipelineGet, cpu }
  } finally {
    await emulator.stop()
  }
}

async function runDirect(redisUrl: string): Promise<{ set: Phase; get: Phase }> {
  const redis = new IORedis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  await redis.connect()
  const prefix = `bench:redis-direct:${process.pid}:${Date.now()}:`
  try {
    const set = await loops(CLIENTS, async (loop, deadline) => {
      let n = 0
      for (const key of keysOf(prefix, loop)) {
        await redis.set(key, `value-${key}`)
        n += 1
        if (performance.now() > deadline) break
      }
      return n
    })
    const get = await loops(CLIENTS, async (loop, deadline) => {
      let n = 0
      for (const key of keysOf(prefix, loop)) {
        await redis.get(key)
        n += 1
        if (performance.now() > deadline) break
      }
      return n
    })
    for (let i = 0; i < KEYS; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, KEYS - i) }, (_, j) => `${prefix}${i + j}`)
      await redis.del(...batch)
    }
    return { set, get }
  } finally {
    redis.disconnect()
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  const probe = new IORedis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  probe.on('error', () => {})
  try {
    await probe.connect()
    return (await probe.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

export async function benchRedis(): Promise<string[]> {
  const env = redisEmulatorOptionsFromEnv()
  const redisUrl = env.redisUrl ?? 'redis://127.0.0.1:6379'
  const realRedis = await redisAnswers(redisUrl)
  if (env.backend === 'redis' && !realRedis) {
    throw new Error('REDIS_EMULATOR_BACKEND=redis but no Redis answers at REDIS_EMULATOR_REDIS_URL')
  }

  const rows: Array<[string, Phase]> = []
  const mock = env.backend === 'redis' ? undefined : await runEmulator('mock', redisUrl)
  if (mock) {
    rows.push(['emulator (mock) SET, 50 callers, one auto-pipelined client', mock.set])
    rows.push(['emulator (mock) GET, 50 callers, one auto-pipelined client', mock.get])
    rows.push(['emulator (mock) GET, 50 separate clients', mock.unbatchedGet])
    rows.push(['emulator (mock) GET, raw /pipeline x50', mock.pipelineGet])
  }
  const real = realRedis ? await runEmulator('redis', redisUrl) : undefined
  if (real) {
    rows.push(['emulator (redis) SET, 50 callers, one auto-pipelined client', real.set])
    rows.push(['emulator (redis) GET, 50 callers, one auto-pipelined client', real.get])
    rows.push(['emulator (redis) GET, 50 separate clients', real.unbatchedGet])
    rows.push(['emulator (redis) GET, raw /pipeline x50', real.pipelineGet])
  }
  const direct = realRedis ? await runDirect(redisUrl) : undefined
  if (direct) {
    rows.push(['ioredis direct SET', direct.set])
    rows.push(['ioredis direct GET', direct.get])
  }

  console.log(`\nRedis REST emulator: ${KEYS} keys, ${CLIENTS} concurrent loops`)
  console.log('| path | ops | seconds | ops/s |')
  console.log('|---|---:|---:|---:|')
  for (const [name, phase] of rows) {
    console.log(`| ${name} | ${phase.ops} | ${(phase.ms / 1000).toFixed(2)} | ${phase.perSecond} |`)
  }

  const headline = real ?? mock
  if (!headline) throw new Error('no emulator run')
  const directValue = direct ? String(direct.get.perSecond) : 'n/a'
  const directSet = direct ? String(direct.set.perSecond) : 'n/a'
  const lines = [
    `BENCH redis_emu_get_per_s ${headline.get.perSecond} ops/s baseline=${directValue} target=>=10000`,
    `BENCH redis_emu_set_per_s ${headline.set.perSecond} ops/s baseline=${directSet} target=report`,
    `BENCH redis_direct_get_per_s ${directValue} ops/s baseline=${directValue} target=report`,
  ]
  lines.push(
    `BENCH redis_emu_pipeline_get_per_s ${headline.pipelineGet.perSecond} ops/s baseline=${directValue} target=report`,
    `BENCH redis_emu_get_unbatched_per_s ${headline.unbatchedGet.perSecond} ops/s baseline=${directValue} target=report`,
  )
  if (headline.cpu) {
    // Where a one-command request's CPU goes: the emulator beside the client (@upstash/redis + fetch).
    const { emulatorUs, clientUs } = headline.cpu
    console.log(
      `\n50 separate clients, CPU per request: emulator ${emulatorUs.toFixed(0)} µs, client ${clientUs.toFixed(0)} µs`,
    )
    lines.push(
      `BENCH redis_emu_cpu_us_per_request ${emulatorUs.toFixed(0)} us baseline=${clientUs.toFixed(0)} target=report`,
    )
  }
  if (mock && real) {
    lines.push(
      `BENCH redis_emu_mock_get_per_s ${mock.get.perSecond} ops/s baseline=${directValue} target=report`,
    )
  }
  return lines
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchRedis()) console.log(line)
}
