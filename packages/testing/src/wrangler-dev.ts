import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

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
 *
 * `devtools: false` starts it through wrangler's own dev server API (`unstable_startWorker`: the
 * same bundling, proxy worker and workerd) with the devtools inspector off and no file watching.
 * The CLI cannot turn the inspector off, and with it on every subrequest the Worker makes (each
 * Neon, Redis or QStash call) becomes four Network.* devtools events that wrangler relays to its
 * Node process and writes to its debug log: 2.5-4 ms of CPU per subrequest on a 2-core machine,
 * which no deployed Worker pays. Benchmarks use it.
 */
export async function startWranglerDev(options: {
  packageDir: string
  config: string
  cwd: string
  vars: Record<string, string>
  readyPath: string
  port?: number
  devtools?: boolean
}): Promise<WranglerDev> {
  const require = createRequire(join(options.packageDir, 'package.json'))
  const port = options.port ?? (await freePort())
  const persistDir = mkdtempSync(join(tmpdir(), 'e2e-wrangler-'))
  const args =
    options.devtools === false
      ? withoutDevtoolsArgs(require.resolve('wrangler'), options.config, port, options.vars)
      : await cliArgs(require, options.config, port, persistDir, options.vars)
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

async function cliArgs(
  require: NodeJS.Require,
  config: string,
  port: number,
  persistDir: string,
  vars: Record<string, string>,
): Promise<string[]> {
  const bin = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js')
  const args = [
    bin,
    'dev',
    '--config',
    config,
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(await freePort()),
    '--persist-to',
    persistDir,
    '--show-interactive-dev-session=false',
    '--log-level',
    'warn',
  ]
  for (const [key, value] of Object.entries(vars)) args.push('--var', `${key}:${value}`)
  return args
}

/** Node arguments that run `unstable_startWorker` with the inspector off, in its own process. */
function withoutDevtoolsArgs(
  wrangler: string,
  config: string,
  port: number,
  vars: Record<string, string>,
): string[] {
  const script = `
    const { unstable_startWorker } = await import(${JSON.stringify(pathToFileURL(wrangler).href)})
    const [config, port, vars] = [process.argv[1], Number(process.argv[2]), JSON.parse(process.argv[3])]
    const worker = await unstable_startWorker({
      config,
      bindings: Object.fromEntries(
        Object.entries(vars).map(([name, value]) => [name, { type: 'plain_text', value }]),
      ),
      dev: {
        server: { hostname: '127.0.0.1', port },
        inspector: false,
        persist: false,
        watch: false,
        logLevel: 'warn',
      },
    })
    await worker.ready
    process.on('SIGTERM', () => worker.dispose().finally(() => process.exit(0)))
  `
  return ['--input-type=module', '-e', script, config, String(port), JSON.stringify(vars)]
}
