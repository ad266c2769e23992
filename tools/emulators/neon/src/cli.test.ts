import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url))
const children: ChildProcess[] = []
const cleanups: (() => Promise<void>)[] = []

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  for (const cleanup of cleanups) await cleanup()
})

interface Run {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
  line: (pattern: RegExp) => Promise<string>
}

function runCli(args: string[], env: Record<string, string> = {}): Run {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('NEON_EMULATOR_')),
  )
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  const waiters: (() => void)[] = []
  const onData = (chunk: Buffer) => {
    output += chunk.toString()
    for (const wake of waiters.splice(0)) wake()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const line = async (pattern: RegExp) => {
    for (;;) {
      const found = output.split('\n').find((l) => pattern.test(l))
      if (found) return found
      if (child.exitCode !== null) throw new Error(`CLI exited ${child.exitCode}: ${output}`)
      await new Promise<void>((resolve) => {
        waiters.push(resolve)
        child.once('exit', () => resolve())
      })
    }
  }
  return { child, output: () => output, exited, line }
}

describe('neon emulator CLI', () => {
  it('prints the ready line with credentials masked and stops on SIGTERM', async () => {
    // The postgres backend connects lazily, so no server is needed to start.
    const run = runCli([
      '--port',
      '0',
      '--backend',
      'postgres',
      '--postgres-url',
      'postgres://app:hunter2@127.0.0.1:1/appdb',
    ])
    const ready = await run.line(/ready on/)
    expect(ready).toMatch(
      /^neon emulator ready on http:\/\/127\.0\.0\.1:\d+ \(backend postgres, server postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/appdb\)$/,
    )
    expect(await run.line(/^connection string /)).toBe(
      'connection string postgres://app:***@127.0.0.1:1/appdb',
    )
    const port = ready.match(/:(\d+) /)?.[1]
    const health = await fetch(`http://127.0.0.1:${port}/health`)
    expect(await health.json()).toEqual({ status: 'ok', backend: 'postgres' })
    // An unreachable server is a clean error, with no password in it.
    const res = await fetch(`http://127.0.0.1:${port}/sql`, {
      method: 'POST',
      headers: { 'Neon-Connection-String': 'postgres://app:hunter2@x/appdb' },
      body: JSON.stringify({ query: 'select 1' }),
    })
    expect(res.status).toBe(500)
    expect(await res.text()).not.toContain('hunter2')
    run.child.kill('SIGTERM')
    expect(await run.exited).toBe(0)
    expect(run.output()).not.toContain('hunter2')
  })

  it('starts PGlite with a data directory and stops on SIGINT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'neon-cli-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const run = runCli(['--memory', '--user', 'app'], {
      NEON_EMULATOR_PORT: '0',
      NEON_EMULATOR_DATA_DIR: dir,
      NEON_EMULATOR_PASSWORD: 'hunter2',
      NEON_EMULATOR_DATABASE: 'appdb',
    })
    const ready = await run.line(/ready on/)
    expect(ready).toMatch(
      /^neon emulator ready on http:\/\/127\.0\.0\.1:\d+ \(backend pglite, data in memory\)$/,
    )
    // What clients connect with, the password masked.
    expect(await run.line(/^connection string /)).toBe(
      'connection string postgres://app:***@localhost:5432/appdb',
    )
    const port = ready.match(/:(\d+) /)?.[1]
    const refused = await fetch(`http://127.0.0.1:${port}/sql`, {
      method: 'POST',
      headers: { 'Neon-Connection-String': 'postgres://app:wrong@localhost/appdb' },
      body: JSON.stringify({ query: 'select 1' }),
    })
    expect(refused.status).toBe(400)
    const ok = await fetch(`http://127.0.0.1:${port}/sql`, {
      method: 'POST',
      headers: { 'Neon-Connection-String': 'postgres://app:hunter2@localhost/appdb' },
      body: JSON.stringify({ query: 'select 1 as one' }),
    })
    expect(((await ok.json()) as { rows: unknown }).rows).toEqual([{ one: 1 }])
    run.child.kill('SIGINT')
    expect(await run.exited).toBe(0)
    expect(run.output()).not.toContain('hunter2')

    const persistent = runCli(['--port', '0', '--data-dir', dir])
    expect(await persistent.line(/ready on/)).toContain(`(backend pglite, data ${dir})`)
    persistent.child.kill('SIGTERM')
    expect(await persistent.exited).toBe(0)
  })

  it('exits 1 with a clear line when the port is busy', async () => {
    const blocker: Server = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const run = runCli([], { NEON_EMULATOR_PORT: String(port) })
      expect(await run.exited).toBe(1)
      expect(run.output().trim()).toBe(
        `neon emulator: port ${port} is already in use (set NEON_EMULATOR_PORT)`,
      )
    } finally {
      blocker.close()
    }
  })

  it('exits 1 naming a bad variable or flag', async () => {
    const run = runCli([], { NEON_EMULATOR_BACKEND: 'mysql' })
    expect(await run.exited).toBe(1)
    expect(run.output()).toContain('NEON_EMULATOR_BACKEND')
    const flag = runCli(['--user', 'x'.repeat(64)])
    expect(await flag.exited).toBe(1)
    expect(flag.output()).toContain('--user must be 1 to 63 bytes')
  })
})
