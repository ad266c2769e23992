import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@upstash/qstash'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startQStashEmulator } from './index'
import { type Endpoint, sleep, startEndpoint, waitFor } from './test-support'

let endpoint: Endpoint
const dirs: string[] = []

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qstash-emu-'))
  dirs.push(dir)
  return dir
}

beforeAll(async () => {
  endpoint = await startEndpoint()
})

afterAll(async () => {
  await endpoint.close()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function countById(path: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const d of endpoint.deliveries) {
    if (d.path !== path) continue
    const id = d.headers['upstash-message-id'] as string
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  return counts
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((r) => server.close(() => r()))
  return port
}

function startCli(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let out = ''
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts'], {
    cwd: join(import.meta.dirname, '..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString()
  })
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString()
  })
  return { child, output: () => out }
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })

describe('durability', () => {
  it('a close and restart mid-backlog delivers every message exactly once', async () => {
    const dataDir = tempDir()
    endpoint.setHandler((d) => (d.path === '/backlog' ? { status: 200, delayMs: 15 } : undefined))
    const first = await startQStashEmulator({
      port: 0,
      dataDir,
      timeScale: 0.01,
      maxConcurrency: 4,
    })
    const client = new Client({ baseUrl: first.url, token: first.token, retry: false })
    const published: string[] = []
    for (let i = 0; i < 4; i++) {
      const batch = await client.batch(
        Array.from({ length: 50 }, (_, j) => ({
          url: `${endpoint.url}/backlog`,
          body: `${i * 50 + j}`,
        })),
      )
      published.push(...batch.map((r) => (r as { messageId: string }).messageId))
    }
    expect(new Set(published).size).toBe(200)
    await waitFor(() => countById('/backlog').size >= 60, 10_000, '60 deliveries')
    await first.close()
    const deliveredBefore = countById('/backlog').size
    expect(deliveredBefore).toBeLessThan(200)

    const second = await startQStashEmulator({
      port: 0,
      dataDir,
      timeScale: 0.01,
      maxConcurrency: 8,
    })
    try {
      await waitFor(() => countById('/backlog').size === 200, 15_000, 'all 200 delivered')
      const counts = countById('/backlog')
      expect([...counts.keys()].sort()).toEqual([...published].sort())
      expect([...counts.values()].every((n) => n === 1)).toBe(true)
    } finally {
      await second.close()
    }
  })

  it('a delivery in flight during close can still publish to it, and is not run again', async () => {
    // A workflow endpoint publishes its next step to QStash before it answers its delivery. If
    // close cut that publish off, the delivery would fail and run again after a restart.
    const dataDir = tempDir()
    const first = await startQStashEmulator({ port: 0, dataDir, timeScale: 0.001 })
    const client = (emu: { url: string; token: string }) =>
      new Client({ baseUrl: emu.url, token: emu.token, retry: false })
    const seen: string[] = []
    let closing: Promise<void> | undefined
    const app = http.createServer((req, res) => {
      req.resume()
      req.on('end', async () => {
        seen.push(req.url ?? '')
        if (req.url === '/first') {
          closing = first.close()
          await sleep(50)
          try {
            await client(first).publishJSON({ url: `${appUrl}/next`, body: { step: 2 } })
            res.writeHead(200).end('ok')
          } catch {
            res.writeHead(500).end('publish failed')
          }
          return
        }
        res.writeHead(200).end('ok')
      })
    })
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve))
    const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`
    try {
      await client(first).publishJSON({ url: `${appUrl}/first`, body: { step: 1 } })
      await waitFor(() => closing !== undefined, 5000, 'the first delivery')
      await closing
      const second = await startQStashEmulator({ port: 0, dataDir, timeScale: 0.001 })
      try {
        await waitFor(() => seen.includes('/next'), 5000, 'the step published during close')
        await sleep(300)
        expect(seen).toEqual(['/first', '/next'])
      } finally {
        await second.close()
      }
    } finally {
      app.closeAllConnections()
      await new Promise<void>((resolve) => app.close(() => resolve()))
    }
  }, 30_000)

  it('a killed process loses no acknowledged message, schedule, queue or DLQ entry', async () => {
    const dataDir = tempDir()
    const port = await freePort()
    const cli = startCli({
      QSTASH_EMULATOR_PORT: String(port),
      QSTASH_EMULATOR_DATA_DIR: dataDir,
      QSTASH_EMULATOR_TIME_SCALE: '0.01',
    })
    await waitFor(() => cli.output().includes('ready on'), 15_000, 'the CLI to start')
    const auth = new Client({
      baseUrl: `http://127.0.0.1:${port}`,
      token: 'eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=',
      retry: false,
    })
    endpoint.setHandler((d) => (d.path === '/to-dlq' ? { status: 500 } : undefined))
    await auth.publish({ url: `${endpoint.url}/to-dlq`, body: 'dead', retries: 0 })
    await waitFor(
      async () => (await auth.dlq.listMessages()).messages.length === 1,
      5000,
      'a DLQ entry',
    )
    await auth.queue({ queueName: 'kept' }).upsert({ parallelism: 2 })
    const { scheduleId } = await auth.schedules.create({
      destination: `${endpoint.url}/sched`,
      cron: '0 0 1 1 *',
    })
    // 300 s delay at timeScale 0.01 → due 3 s after publish; the process dies well before that,
    // even on a loaded machine
    const batch = await auth.batch(
      Array.from({ length: 50 }, (_, i) => ({
        url: `${endpoint.url}/survivor`,
        body: `${i}`,
        delay: 300,
      })),
    )
    const ids = batch.map((r) => (r as { messageId: string }).messageId)
    cli.child.kill('SIGKILL')
    await exited(cli.child)
    expect(countById('/survivor').size).toBe(0)

    const restarted = await startQStashEmulator({ port: 0, dataDir, timeScale: 0.01 })
    try {
      const again = new Client({ baseUrl: restarted.url, token: restarted.token, retry: false })
      await waitFor(
        () => countById('/survivor').size === 50,
        15_000,
        'all 50 delivered after restart',
      )
      expect([...countById('/survivor').keys()].sort()).toEqual([...ids].sort())
      expect((await again.dlq.listMessages()).messages).toHaveLength(1)
      expect((await again.queue({ queueName: 'kept' }).get()).parallelism).toBe(2)
      expect((await again.schedules.get(scheduleId)).cron).toBe('0 0 1 1 *')
    } finally {
      await restarted.close()
    }
  }, 40_000)

  it('a start that finds its port taken leaves the data folder of the one running untouched', async () => {
    const dataDir = tempDir()
    const running = await startQStashEmulator({ port: 0, dataDir, timeScale: 0.01 })
    try {
      const client = new Client({ baseUrl: running.url, token: running.token, retry: false })
      const { messageId } = await client.publish({
        url: `${endpoint.url}/owned`,
        body: 'x',
        delay: 3600,
      })
      const wal = readFileSync(join(dataDir, 'wal.jsonl'), 'utf8')
      expect(wal).toContain(messageId)
      await expect(
        startQStashEmulator({ port: running.port, dataDir, timeScale: 0.01 }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' })
      // a snapshot from the failed start would truncate the log the running one appends to, and
      // a kill of the running one would then lose what it logged since the failed start read it
      expect(readFileSync(join(dataDir, 'wal.jsonl'), 'utf8')).toBe(wal)
      expect(existsSync(join(dataDir, 'state.json'))).toBe(false)
      expect((await client.messages.get(messageId)).messageId).toBe(messageId)
    } finally {
      await running.close()
    }
  })

  it('the CLI prints its ready line without secrets, stops on SIGTERM, and reports a busy port', async () => {
    const port = await freePort()
    // memory only: these runs start in the package folder and must leave no .data there
    const cli = startCli({
      QSTASH_EMULATOR_PORT: String(port),
      QSTASH_EMULATOR_MEMORY: '1',
      QSTASH_TOKEN: 'tok-very-secret',
    })
    await waitFor(() => cli.output().includes('ready on'), 15_000, 'the CLI to start')
    expect(cli.output()).toContain(
      `qstash emulator ready on http://127.0.0.1:${port} (memory only)`,
    )
    const busy = startCli({ QSTASH_EMULATOR_PORT: String(port), QSTASH_EMULATOR_MEMORY: '1' })
    expect(await exited(busy.child)).toBe(1)
    expect(busy.output()).toContain(
      `qstash emulator: port ${port} is already in use (set QSTASH_EMULATOR_PORT)`,
    )
    cli.child.kill('SIGTERM')
    expect(await exited(cli.child)).toBe(0)
    expect(cli.output()).not.toContain('tok-very-secret')
    const bad = startCli({ QSTASH_EMULATOR_TIME_SCALE: 'fast', QSTASH_EMULATOR_MEMORY: '1' })
    expect(await exited(bad.child)).toBe(1)
    expect(bad.output()).toContain('QSTASH_EMULATOR_TIME_SCALE')
  }, 40_000)
})
