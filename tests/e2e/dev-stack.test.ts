import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { descendantsOf, isAlive } from '@synthstack/dev/process-tree'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Starts `pnpm dev` exactly as the README does (on other ports, with a private data folder), waits
// for the stack, checks /health end to end, then stops it with SIGINT and checks nothing is left.
const repoRoot = resolve(import.meta.dirname, '../..')
const ports = {
  NEON_EMULATOR_PORT: 24444,
  REDIS_EMULATOR_PORT: 28079,
  QSTASH_EMULATOR_PORT: 28080,
  EDGE_API_PORT: 23003,
  JOBS_WORKER_PORT: 23004,
  ML_NODE_PORT: 28001,
  WEB_PORT: 23050,
}
const apiUrl = `http://127.0.0.1:${ports.EDGE_API_PORT}`

let dev: ChildProcess
let output = ''
let dataDir: string

function isListening(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolvePort(true)
    })
    socket.once('error', () => resolvePort(false))
  })
}

function waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolveWait, reject) => {
    const deadline = setTimeout(
      () =>
        reject(
          new Error(`timed out waiting for ${pattern}; output so far:\n${output.slice(-4000)}`),
        ),
      timeoutMs,
    )
    const check = () => {
      if (pattern.test(output)) {
        clearTimeout(deadline)
        resolveWait()
        return true
      }
      return false
    }
    if (check()) return
    dev.stdout?.on('data', check)
    dev.once('exit', (code) => {
      clearTimeout(deadline)
      reject(new Error(`pnpm dev exited with ${code}; output:\n${output.slice(-4000)}`))
    })
  })
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'synthstack-dev-'))
  const env: NodeJS.ProcessEnv = { ...process.env, DEV_DATA_DIR: dataDir }
  for (const [name, value] of Object.entries(ports)) env[name] = String(value)
  // Its own process group, so SIGINT reaches it the way Ctrl-C in a terminal does.
  dev = spawn('pnpm', ['dev'], {
    cwd: repoRoot,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  dev.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  dev.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  await waitForOutput(/stack is up/, 200_000)
})

afterAll(async () => {
  // Only when a test failed before the SIGINT test stopped the stack.
  if (dev.exitCode === null && dev.signalCode === null && dev.pid !== undefined) {
    process.kill(-dev.pid, 'SIGKILL')
  }
  rmSync(dataDir, { recursive: true, force: true })
})

describe('pnpm dev', () => {
  it('serves /health with every dependency healthy', async () => {
    const response = await fetch(`${apiUrl}/health`)
    const body = (await response.json()) as {
      status: string
      checks: Record<string, { status: string }>
    }
    expect(body.checks.postgres?.status).toBe('ok')
    expect(body.checks.redis?.status).toBe('ok')
    expect(body.checks.qstash?.status).toBe('ok')
    expect(body.checks.vectors?.status).toBe('ok')
    expect(body.checks['ml-node']?.status ?? body.checks.ml_node?.status).toBe('ok')
    expect(body.status).toBe('ok')
    expect(response.status).toBe(200)
  })

  it('refuses to start a second stack on busy ports, naming the port', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DEV_DATA_DIR: dataDir }
    for (const [name, value] of Object.entries(ports)) env[name] = String(value)
    const second = spawn('pnpm', ['dev'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let secondOutput = ''
    second.stdout?.on('data', (chunk: Buffer) => {
      secondOutput += chunk.toString()
    })
    second.stderr?.on('data', (chunk: Buffer) => {
      secondOutput += chunk.toString()
    })
    const code = await new Promise<number | null>((resolveExit) => second.once('exit', resolveExit))
    expect(code).not.toBe(0)
    expect(secondOutput).toMatch(
      new RegExp(`port ${ports.NEON_EMULATOR_PORT} \\(neon\\) is already in use`),
    )
  })

  it('stops every child on SIGINT, leaving no port open and no workerd behind', async () => {
    const children = descendantsOf(dev.pid as number)
    const workerds = [...children].filter(([, comm]) => comm.includes('workerd'))
    // The edge API and the jobs worker each run one.
    expect(workerds.length, [...children.values()].join(', ')).toBeGreaterThanOrEqual(2)
    const exited = new Promise<number | null>((resolveExit) => dev.once('exit', resolveExit))
    process.kill(-(dev.pid as number), 'SIGINT')
    await exited
    for (const port of Object.values(ports)) {
      expect(await isListening(port), `port ${port} still open`).toBe(false)
    }
    // `pnpm dev` exits only after its children's children are gone: nothing may be left now.
    const left = [...children].filter(([pid]) => isAlive(pid))
    expect(left.map(([pid, comm]) => `${pid} ${comm}`)).toEqual([])
  })
})

describe('pnpm dev with a bad setting', () => {
  it('stops at start-up with a message that names the variable', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DEV_DATA_DIR: dataDir }
    for (const [name, value] of Object.entries(ports)) env[name] = String(value + 100)
    // The emulator accepts a short token; the edge API's config (UPSTASH_REDIS_REST_TOKEN) does not.
    env.REDIS_EMULATOR_TOKEN = 'abc'
    const started = Date.now()
    const bad = spawn('pnpm', ['dev'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let badOutput = ''
    for (const stream of [bad.stdout, bad.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        badOutput += chunk.toString()
      })
    }
    const code = await new Promise<number | null>((resolveExit) => bad.once('exit', resolveExit))
    expect(code).not.toBe(0)
    expect(badOutput).toMatch(
      /\[dev\] Invalid configuration: UPSTASH_REDIS_REST_TOKEN is too short/,
    )
    expect(badOutput).not.toContain('abc"')
    // Well before the 90 s the API is otherwise given to come up.
    expect(Date.now() - started).toBeLessThan(75_000)
  })
})
