import { mkdirSync, statSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createApp } from './app.js'
import { type Config, ConfigError, checkConfig, loadConfig } from './config.js'
import { isNotWritable, modelDirNotWritable } from './model-dir.js'
import { createServices, type Services } from './services.js'

export interface RunningServer {
  url: string
  port: number
  services: Services
  close(): Promise<void>
}

export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(
      `port ${port} on ${host} is already in use: set PORT to a free port or stop the other process`,
    )
  }
}

/** MODEL_DIR exists (created if missing) and is a directory; else one line saying why not. */
export function prepareModelDir(dir: string) {
  const fail = (why: string) => new ConfigError(`MODEL_DIR (${dir}) cannot be used: ${why}`)
  try {
    mkdirSync(dir, { recursive: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST' || code === 'ENOTDIR') throw fail('it, or a folder above it, is a file')
    if (isNotWritable(code)) throw modelDirNotWritable(dir, `could not create ${dir}`, code)
    throw fail((err as Error).message)
  }
  if (!statSync(dir).isDirectory()) throw fail('it is not a directory')
}

/**
 * Start the ml-node: listen first (so /healthz answers at once), then load models in the
 * background; /readyz turns 200 when they are loaded. `waitReady` awaits that.
 */
export async function startServer(
  overrides: Partial<Config> = {},
  opts: { waitReady?: boolean; env?: Record<string, string | undefined> } = {},
): Promise<RunningServer> {
  const config = checkConfig({ ...loadConfig(opts.env), ...overrides })
  prepareModelDir(config.MODEL_DIR)
  const services = createServices(config)
  const app = createApp(services)
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST })
    s.once('listening', () => resolve(s))
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(config.HOST, config.PORT) : err),
    )
  })
  const port = (server.address() as AddressInfo).port
  const starting = services.start()
  if (opts.waitReady !== false) await starting
  let closing: Promise<void> | null = null
  return {
    url: `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`,
    port,
    services,
    close() {
      closing ??= (async () => {
        await new Promise<void>((r) => {
          server.close(() => r())
          // Idle keep-alive sockets would hold close() open.
          if ('closeIdleConnections' in server) server.closeIdleConnections()
        })
        await starting.catch(() => undefined)
        await services.close()
      })()
      return closing
    },
  }
}
