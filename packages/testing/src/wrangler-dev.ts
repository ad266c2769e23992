import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

export interface WranglerDev {
  url: string
  output(): string
  close(): Promise<void>
}

/** A free TCP port on 127.0.0.1 (wrangler dev has no port-0 mode). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

/**
 * Runs a Worker under the real `wrangler dev` CLI, as `pnpm dev` does, on a free port (`packageDir`
 * holds its wrangler dependency, `config` its wrangler.toml), with `vars` passed as `--var`, and
 * waits until `readyPath` answers 200. `close()` signals the wrangler process group itself
 * (wrangler and its workerd child), not a wrapper.
 */
export async function startWranglerDev(options: {
  packageDir: string
  config: string
  cwd: string
  vars: Record<string, string>
  readyPath: string
  port?: number
}): Promise<WranglerDev> {
  const require = createRequire(join(options.packageDir, 'package.json'))
  const bin = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js')
  const port = options.port ?? (await freePort())
  const inspectorPort = await freePort()
  const persistDir = mkdtempSync(join(tmpdir(), 'e2e-wrangler-'))
  const args = [
    bin,
    'dev',
    '--config',
    options.config,
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    persistDir,
    '--show-interactive-dev-session=false',
    '--log-level',
    'warn',
  ]
  for (const [key, value] of Object.entries(options.vars)) args.push('--var', `${key}:${value}`)
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: options.cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      NO_COLOR: '1',
      CI: '1',
    },
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const close = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {}
      const timer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
        } catch {}
      }, 5_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(persistDir, { recursive: true, force: true })
  }
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 90_000
  for (;;) {
    if (child.exitCode !== null) {
      await close()
      throw new Error(`wrangler dev exited (${child.exitCode}):\n${output}`)
    }
    try {
      const response = await fetch(`${url}${options.readyPath}`)
      await response.body?.cancel()
      if (response.status === 200) break
    } catch {}
    if (Date.now() > deadline) {
      await close()
      throw new Error(`wrangler dev did not become ready on ${url}:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return { url, output: () => output, close }
}
