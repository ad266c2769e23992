// pnpm bench:edge — what auth + rate limit + metering add to a trivial authenticated route,
// beside the same route with no middleware, in the same run, and the edge API bundle size
// (gzipped). The Worker under test is the production bundle (`wrangler deploy --dry-run`) run
// by workerd through Miniflare, against the emulators. `BENCH_EDGE_RUNTIME=wrangler-dev` runs
// the sources under the `wrangler dev` CLI instead: its proxy worker adds about 2 ms to every
// request, and its devtools inspector relays four events per subrequest to wrangler's Node
// process (several ms of CPU per Redis round trip here; see startWranglerDev in
// @synthstack/testing), so it measures wrangler more than the app. BENCH lines come last.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { freePort, startTestStack } from '@synthstack/testing'
import { Miniflare } from 'miniflare'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const wrangler = join(root, 'bench/node_modules/.bin/wrangler')
const N = Number(process.env.BENCH_EDGE_REQUESTS ?? 2000)
const RUNTIME = process.env.BENCH_EDGE_RUNTIME === 'wrangler-dev' ? 'wrangler-dev' : 'workerd'
const WARMUP = 100
const wranglerEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
}
/** The compatibility date in wrangler.toml, so Miniflare runs the bundle as Cloudflare would. */
const compatibilityDate =
  /^compatibility_date\s*=\s*"([^"]+)"/m.exec(
    readFileSync(join(root, 'wrangler.toml'), 'utf8'),
  )?.[1] ?? '2026-04-20'

const run = (args: string[]) =>
  new Promise<void>((ok, fail) => {
    const child = spawn(wrangler, args, {
      cwd: root,
      env: wranglerEnv,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (d) => {
      err += d
    })
    child.on('exit', (code) =>
      code === 0 ? ok() : fail(new Error(`wrangler ${args[0]} failed: ${err.slice(-2000)}`)),
    )
  })

/**
 * The bundle `wrangler deploy` would upload (minified, as wrangler.toml says) for `entry` (the
 * edge API's own entry when omitted), written to `outDir`.
 */
async function buildBundle(outDir: string, entry?: string): Promise<string> {
  const config = ['--config', 'wrangler.toml', '--env=', '--dry-run', '--outdir', outDir]
  await run(['deploy', ...(entry ? [entry] : []), ...config])
  return join(outDir, entry ? `${basename(entry, '.ts')}.js` : 'index.js')
}

/** The libraries alone (apps/edge-api/bench/library-floor.ts), bundled the same way. */
async function libraryFloorGzipKb(): Promise<number> {
  const outDir = mkdtempSync(join(tmpdir(), 'edge-floor-'))
  try {
    const bundle = await buildBundle(outDir, 'apps/edge-api/bench/library-floor.ts')
    return gzipSync(readFileSync(bundle)).length / 1024
  } finally {
    rmSync(outDir, { recursive: true, force: true })
  }
}

interface RunningWorker {
  base: string
  close(): Promise<void>
}

/** The production bundle in workerd (Miniflare), with `vars` as its bindings. */
async function startWorkerd(bundle: string, vars: Record<string, string>): Promise<RunningWorker> {
  const port = await freePort()
  const mf = new Miniflare({
    modules: [{ type: 'ESModule', path: bundle }],
    modulesRoot: dirname(bundle),
    compatibilityDate,
    bindings: vars,
    host: '127.0.0.1',
    port,
  })
  await mf.ready
  return { base: `http://127.0.0.1:${port}`, close: () => mf.dispose() }
}

/** The sources under `wrangler dev` (its proxy worker in front, its outbound handling behind). */
async function startWranglerDev(vars: Record<string, string>): Promise<RunningWorker> {
  const port = await freePort()
  const args = [
    'dev',
    '--config',
    'wrangler.toml',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(await freePort()),
  ]
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`)
  const dev = spawn(wrangler, args, {
    cwd: root,
    env: wranglerEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return {
    base: `http://127.0.0.1:${port}`,
    close: async () => {
      dev.kill('SIGTERM')
      await new Promise((r) => dev.once('exit', r))
    },
  }
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN

async function main() {
  const stack = await startTestStack()
  const vars = {
    ...stack.env,
    ENVIRONMENT: 'test',
    LOG_LEVEL: 'warn',
    BENCH_ROUTES: 'true',
    ML_NODE_URL: '',
    JOBS_WORKER_URL: '',
    // The bench key must not hit its own limit.
    RATE_LIMIT_PER_MINUTE_FREE: '1000000',
  }
  const outDir = mkdtempSync(join(tmpdir(), 'edge-bundle-'))
  const bundle = await buildBundle(outDir)
  const gz = gzipSync(readFileSync(bundle)).length / 1024
  const floor = await libraryFloorGzipKb()
  const worker =
    RUNTIME === 'workerd' ? await startWorkerd(bundle, vars) : await startWranglerDev(vars)
  const base = worker.base
  try {
    const deadline = Date.now() + 90_000
    for (;;) {
      const ok = await fetch(`${base}/_bench/bare`).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) break
      if (Date.now() > deadline) throw new Error(`the Worker (${RUNTIME}) did not start`)
      await new Promise((r) => setTimeout(r, 250))
    }
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<{ session: { token: string }; key: string }>)
    const signup = await post('/v1/auth/signup', {
      email: `bench-${Date.now()}@example.com`,
      password: 'bench password 123',
    })
    const key = await post(
      '/v1/api-keys',
      { name: 'bench', scopes: ['chat'] },
      signup.session.token,
    )
    const auth = { Authorization: `Bearer ${key.key}` }
    const sessionAuth = { Authorization: `Bearer ${signup.session.token}` }

    const time = async (path: string, headers: Record<string, string>) => {
      const t = performance.now()
      const res = await fetch(`${base}${path}`, { headers })
      await res.arrayBuffer()
      if (res.status !== 200) throw new Error(`${path} answered ${res.status}`)
      return performance.now() - t
    }
    // The target pair (every iteration) and the breakdown variants (every other iteration), all
    // interleaved, so drift on a shared machine hits each alike.
    const series = [
      { name: 'bare', path: '/_bench/bare', headers: {}, every: 1 },
      { name: 'auth+limit+meter', path: '/_bench/authed', headers: auth, every: 1 },
      { name: 'key auth only', path: '/_bench/auth-only', headers: auth, every: 2 },
      { name: 'key auth+limit', path: '/_bench/auth-limit', headers: auth, every: 2 },
      { name: 'session, all', path: '/_bench/authed', headers: sessionAuth, every: 2 },
    ].map((s) => ({ ...s, samples: [] as number[] }))
    for (let i = 0; i < WARMUP; i++) {
      for (const s of series) await time(s.path, s.headers)
    }
    for (let i = 0; i < N; i++) {
      for (const s of series) {
        if (i % s.every === 0) s.samples.push(await time(s.path, s.headers))
      }
    }
    for (const s of series) s.samples.sort((a, b) => a - b)
    const p = (xs: number[], q: number) => quantile(xs, q)
    const [bare, authed] = [series[0]?.samples ?? [], series[1]?.samples ?? []]
    console.log(`requests: ${N} bare + ${N} authed, ${N / 2} per breakdown variant`)
    console.log(
      `(sequential, one client, interleaved, after warm-up; ${RUNTIME === 'workerd' ? 'production bundle in workerd' : 'wrangler dev'} + emulators)`,
    )
    console.log('route                 n     p50 ms   p90 ms   p99 ms   p50 over bare')
    for (const s of series) {
      const xs = s.samples
      console.log(
        `${s.name.padEnd(18)} ${String(xs.length).padStart(5)}  ${p(xs, 0.5).toFixed(3).padStart(7)}  ${p(xs, 0.9).toFixed(3).padStart(7)}  ${p(xs, 0.99).toFixed(3).padStart(7)}  ${(p(xs, 0.5) - p(bare, 0.5)).toFixed(3).padStart(8)}`,
      )
    }
    console.log(
      `edge bundle (gzip): ${gz.toFixed(1)} KB; its libraries alone (hono + zod-openapi, drizzle + Neon, Upstash redis/ratelimit/qstash): ${floor.toFixed(1)} KB; the app on top: ${(gz - floor).toFixed(1)} KB`,
    )
    console.log('')
    const f = (x: number) => x.toFixed(3)
    console.log(
      `BENCH edge_overhead_p50_ms ${f(p(authed, 0.5) - p(bare, 0.5))} ms baseline=${f(p(bare, 0.5))} target=<=1.5`,
    )
    console.log(
      `BENCH edge_overhead_p99_ms ${f(p(authed, 0.99) - p(bare, 0.99))} ms baseline=${f(p(bare, 0.99))} target=printed`,
    )
    // Baseline: the same libraries used once each, with no app code, bundled the same way.
    console.log(
      `BENCH edge_bundle_gzip_kb ${gz.toFixed(1)} KB baseline=${floor.toFixed(1)} target=<=200`,
    )
  } finally {
    await worker.close()
    await stack.close()
    rmSync(outDir, { recursive: true, force: true })
  }
}

await main()
