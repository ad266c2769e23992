import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Client } from '@upstash/qstash'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_CREDENTIALS } from './config'
import { type Endpoint, startEndpoint } from './test-support'

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url))
// absolute, so the CLI can run from any working directory
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
const children: ChildProcess[] = []
const dirs: string[] = []
let endpoint: Endpoint

beforeAll(async () => {
  endpoint = await startEndpoint()
})

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  await endpoint.close()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  // realpath: the CLI prints the resolved folder, and tmpdir() may be a symlink
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'qstash-cli-')))
  dirs.push(dir)
  return dir
}

interface Run {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
  /** resolves with the ready line's URL, or fails with the output if the CLI exits first */
  ready: Promise<string>
}

function runCli(cwd: string, args: string[] = [], env: Record<string, string> = {}): Run {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('QSTASH_')),
  )
  const child = spawn(process.execPath, ['--import', tsx, cli, ...args], {
    cwd,
    env: { ...clean, QSTASH_EMULATOR_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const url = /ready on (http:\/\/\S+)/.exec(output)?.[1]
      if (url) resolve(url)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    void exited.then((code) => reject(new Error(`CLI exited ${code}: ${output}`)))
  })
  ready.catch(() => {}) // runs expected to fail are awaited through `exited` instead
  return { child, output: () => output, exited, ready }
}

const client = (url: string) =>
  new Client({ baseUrl: url, token: DEV_CREDENTIALS.token, retry: false })

describe('qstash emulator CLI', () => {
  it('keeps state in .data/qstash by default: a delayed message and a schedule survive a restart', async () => {
    const cwd = tempDir()
    const dataDir = join(cwd, '.data', 'qstash')
    const first = runCli(cwd)
    const url = await first.ready
    expect(first.output()).toContain(`qstash emulator ready on ${url} (data ${dataDir})`)
    const c = client(url)
    // timeScale 1 and an hour's delay: still pending whatever the machine's load
    const { messageId } = await c.publish({ url: `${endpoint.url}/later`, body: 'x', delay: 3600 })
    const { scheduleId } = await c.schedules.create({
      destination: `${endpoint.url}/yearly`,
      cron: '0 0 1 1 *',
    })
    const message = await c.messages.get(messageId)
    const schedule = await c.schedules.get(scheduleId)
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(existsSync(join(dataDir, 'state.json'))).toBe(true)

    const second = runCli(cwd)
    const c2 = client(await second.ready)
    try {
      expect(await c2.messages.get(messageId)).toEqual(message)
      expect(await c2.schedules.get(scheduleId)).toEqual(schedule)
    } finally {
      second.child.kill('SIGTERM')
      expect(await second.exited).toBe(0)
    }
    expect(endpoint.deliveries).toHaveLength(0)
  }, 40_000)

  it('runs in memory with QSTASH_EMULATOR_MEMORY=1 or --memory, writing nothing', async () => {
    for (const [args, env] of [
      [[], { QSTASH_EMULATOR_MEMORY: '1' }],
      [['--memory'], {}],
    ] as const) {
      const cwd = tempDir()
      const run = runCli(cwd, [...args], env)
      const url = await run.ready
      expect(run.output()).toContain(`qstash emulator ready on ${url} (memory only)`)
      const c = client(url)
      const { messageId } = await c.publish({ url: `${endpoint.url}/m`, body: 'x', delay: 3600 })
      expect((await c.messages.get(messageId)).messageId).toBe(messageId)
      run.child.kill('SIGTERM')
      expect(await run.exited).toBe(0)
      expect(existsSync(join(cwd, '.data'))).toBe(false)
    }
  }, 40_000)

  it('takes --data-dir, and exits 1 with the usage for a bad flag or variable', async () => {
    const cwd = tempDir()
    const run = runCli(cwd, ['--data-dir', 'elsewhere'])
    const url = await run.ready
    expect(run.output()).toContain(`ready on ${url} (data ${join(cwd, 'elsewhere')})`)
    run.child.kill('SIGINT')
    expect(await run.exited).toBe(0)
    expect(existsSync(join(cwd, 'elsewhere', 'state.json'))).toBe(true)
    expect(existsSync(join(cwd, '.data'))).toBe(false)

    const both = runCli(cwd, ['--data-dir', 'x', '--memory'])
    expect(await both.exited).toBe(1)
    expect(both.output()).toContain('use either --data-dir or --memory')
    expect(both.output()).toContain('usage: qstash-emulator')
    const bad = runCli(cwd, [], { QSTASH_EMULATOR_MEMORY: 'sometimes' })
    expect(await bad.exited).toBe(1)
    expect(bad.output()).toContain('QSTASH_EMULATOR_MEMORY must be')
    const help = runCli(cwd, ['--help'])
    expect(await help.exited).toBe(0)
    expect(help.output()).toContain('.data/qstash')
  }, 40_000)
})
