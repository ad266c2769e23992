// The ml-node as production runs it: a fresh CLI process (`node --import tsx src/cli.ts`, what
// `pnpm start` runs) configured by environment variables. Measures its cold start (spawn until
// /readyz answers 200) and, on Linux, its peak RSS (VmHWM: the worker threads are in it).
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../../apps/ml-node/src/cli.ts', import.meta.url))
const TSX = import.meta.resolve('tsx')

/**
 * What a server inherits from the bench's shell: what Node and the GPU libraries need to run, and
 * nothing the ml-node reads as configuration (a stray BATCH_MAX_SIZE or CHAT_* would change what
 * is measured). Everything else is passed explicitly.
 */
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'NODE_OPTIONS', 'LD_LIBRARY_PATH']
const INHERITED_PREFIXES = ['CUDA_']

/** `explicit` on top of the inherited part of `from`. */
export function serverEnv(
  explicit: Record<string, string>,
  from: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(from)) {
    if (v === undefined) continue
    if (INHERITED.includes(k) || INHERITED_PREFIXES.some((p) => k.startsWith(p))) env[k] = v
  }
  return { ...env, ...explicit }
}

// A bench that fails half-way must not leave servers behind.
const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL')
})

export interface ServerProcess {
  url: string
  pid: number
  coldStartMs: number
  /** Peak resident set so far, MB; null where /proc is not there. */
  peakRssMb(): number | null
  stop(): Promise<void>
}

export function freePort() {
  return new Promise<number>((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

export function peakRssMb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : null
  } catch {
    return null
  }
}

/** Spawns `args` with the tsx loader and `env` (see serverEnv); waits until `url`/readyz is 200. */
async function startProcess(
  args: string[],
  env: Record<string, string>,
  port: number,
  timeoutMs: number,
): Promise<ServerProcess> {
  const url = `http://127.0.0.1:${port}`
  const started = performance.now()
  const child: ChildProcess = spawn(process.execPath, ['--import', TSX, ...args], {
    env: serverEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  // Keep the tail of its output for the error message; draining also keeps the pipes from filling.
  let output = ''
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let exited: number | null = null
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child)
      exited = code ?? -1
      resolve()
    }),
  )
  const deadline = started + timeoutMs
  for (;;) {
    if (exited !== null) throw new Error(`server exited (${exited}) before ready:\n${output}`)
    if (performance.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`server not ready within ${timeoutMs} ms:\n${output}`)
    }
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.arrayBuffer().then(() => r.status === 200),
      () => false,
    )
    if (ok) break
    await new Promise((r) => setTimeout(r, 20))
  }
  const coldStartMs = performance.now() - started
  const pid = child.pid as number
  return {
    url,
    pid,
    coldStartMs,
    peakRssMb: () => peakRssMb(pid),
    async stop() {
      if (exited === null) child.kill('SIGTERM')
      const force = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exit
      clearTimeout(force)
    },
  }
}

/** The ml-node CLI with these variables (PORT and HOST are set here). */
export async function startMlNode(env: Record<string, string>, timeoutMs = 120_000) {
  const port = await freePort()
  return startProcess([CLI], { ...env, PORT: String(port), HOST: '127.0.0.1' }, port, timeoutMs)
}

/** The floor under the ml-node's figures: the same runtime and loader serving /readyz, no models. */
export async function startBareNode(timeoutMs = 30_000) {
  const port = await freePort()
  const code = `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`
  return startProcess(['-e', code], {}, port, timeoutMs)
}
