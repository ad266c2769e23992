import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { startRedisEmulator } from './index.js'

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url))
const children: ChildProcess[] = []

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', cli], {
    env: { ...process.env, REDIS_EMULATOR_BACKEND: 'mock', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const output = () => ({ stdout, stderr })
  const waitFor = async (pattern: RegExp) => {
    const deadline = Date.now() + 15_000
    while (!pattern.test(stdout) && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    return pattern.exec(stdout)
  }
  return { child, exited, output, waitFor }
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

describe('cli', () => {
  it('prints the ready line without the token, serves, and stops on SIGTERM', async () => {
    const token = 'cli-test-token-value'
    const proc = run({ REDIS_EMULATOR_PORT: '0', REDIS_EMULATOR_TOKEN: token })
    const ready = await proc.waitFor(
      /redis emulator ready on (http:\/\/127\.0\.0\.1:\d+) \(backend mock\)/,
    )
    expect(ready, proc.output().stderr).not.toBeNull()
    const url = ready?.[1] as string
    const response = await fetch(`${url}/ping`, { headers: { authorization: `Bearer ${token}` } })
    expect(await response.json()).toEqual({ result: 'PONG' })
    proc.child.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
    expect(proc.output().stdout + proc.output().stderr).not.toContain(token)
  }, 30_000)

  it('reports a busy port and exits 1', async () => {
    const busy = await startRedisEmulator({ port: 0 })
    try {
      const proc = run({ REDIS_EMULATOR_PORT: String(busy.port) })
      expect(await proc.exited).toBe(1)
      expect(proc.output().stderr).toContain(
        `redis emulator: port ${busy.port} is already in use (set REDIS_EMULATOR_PORT)`,
      )
    } finally {
      await busy.close()
    }
  }, 30_000)

  it('names a bad variable and exits 1', async () => {
    const proc = run({ REDIS_EMULATOR_BACKEND: 'nope' })
    expect(await proc.exited).toBe(1)
    expect(proc.output().stderr).toContain('REDIS_EMULATOR_BACKEND')
  }, 30_000)
})
