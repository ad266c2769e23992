import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
let blocker: Server
let port: number

function start(env: Record<string, string>, as: { uid?: number; gid?: number } = {}) {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts'], {
    cwd: pkg,
    env: { ...process.env, MODEL_DIR: mkdtempSync(join(tmpdir(), 'mlnode-cli-')), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...as,
  })
}

function collect(child: ChildProcess) {
  let out = ''
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  return { output: () => out, exited }
}

beforeAll(async () => {
  blocker = createServer()
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
  port = (blocker.address() as { port: number }).port
})
afterAll(() => new Promise<void>((r) => blocker.close(() => r())))

describe('cli', () => {
  it('exits 1 naming the port when it is busy', async () => {
    const child = start({ PORT: String(port) })
    const { output, exited } = collect(child)
    expect(await exited).toBe(1)
    expect(output()).toContain(`port ${port}`)
    expect(output()).toContain('already in use')
  })

  it('exits 1 naming a bad variable', async () => {
    const { output, exited } = collect(start({ PORT: 'abc' }))
    expect(await exited).toBe(1)
    expect(output()).toContain('PORT')
  })

  it('exits 1 with one line naming MODEL_DIR when it is a file, without a stack trace', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mlnode-cli-')), 'not-a-dir')
    writeFileSync(file, 'x')
    const { output, exited } = collect(start({ PORT: '0', MODEL_DIR: file }))
    expect(await exited).toBe(1)
    const lines = output().trim().split('\n')
    expect(lines.filter((l) => l.includes('MODEL_DIR'))).toEqual([
      `[ml-node] MODEL_DIR (${file}) cannot be used: it, or a folder above it, is a file`,
    ])
    expect(output()).not.toMatch(/^\s+at /m)
    expect(output()).not.toContain('ENOTDIR')
  })

  // The image runs as uid 10001 and a bind-mounted host folder is often root's. As root (where
  // chmod stops nothing) the node runs as uid 10001 over a root-owned folder, the real case;
  // otherwise over a folder made read-only for this user.
  it.skipIf(process.platform === 'win32')(
    'exits 1 with one line saying MODEL_DIR is not writable by this uid, and how to fix it',
    async () => {
      const root = process.getuid?.() === 0
      const parent = mkdtempSync(join(tmpdir(), 'mlnode-cli-'))
      const dir = join(parent, 'models')
      mkdirSync(dir)
      chmodSync(parent, 0o755)
      chmodSync(dir, root ? 0o755 : 0o555)
      const as = root ? { uid: 10001, gid: 10001 } : {}
      const { output, exited } = collect(start({ PORT: '0', MODEL_DIR: dir }, as))
      expect(await exited).toBe(1)
      const uid = root ? 10001 : process.getuid?.()
      const lines = output()
        .trim()
        .split('\n')
        .filter((l) => l.includes('not writable'))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(`MODEL_DIR (${dir}) is not writable by this user (uid ${uid}`)
      expect(lines[0]).toContain(`could not create ${join(dir, 'classifiers')}`)
      expect(lines[0]).toContain(`chown -R ${uid}`)
      expect(lines[0]).toContain('--user')
      expect(output()).not.toMatch(/^\s+at /m)
      chmodSync(dir, 0o755)
    },
  )

  it('exits 1 with one line naming the registry file and the field, without a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlnode-cli-'))
    const file = join(dir, 'registry.json')
    writeFileSync(file, JSON.stringify({ aliases: { 'gpt-4o-mini': 'llama-3-8b' } }))
    const { output, exited } = collect(start({ PORT: '0', MODEL_DIR: dir }))
    expect(await exited).toBe(1)
    const lines = output().trim().split('\n')
    expect(lines.filter((l) => l.includes('registry.json'))).toEqual([
      `[ml-node] MODEL_REGISTRY (${file}) cannot be used: aliases["gpt-4o-mini"]: 'llama-3-8b' is not a model on this node (known: bm25, pocketsphinx-en-us, use-lite-512, use-lite-512-cosine)`,
    ])
    expect(output()).not.toMatch(/^\s+at /m)
    expect(output()).not.toContain('listening on')
  })

  it('starts, answers /healthz, and stops cleanly on SIGTERM', async () => {
    const child = start({ PORT: '0' })
    const { output, exited } = collect(child)
    const deadline = Date.now() + 60_000
    let url = ''
    while (!url && Date.now() < deadline) {
      url = /listening on (http:\/\/\S+)/.exec(output())?.[1] ?? ''
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(url, output()).not.toBe('')
    expect((await fetch(`${url}/healthz`)).status).toBe(200)
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(output()).toContain('SIGTERM')
  })
})
