/**
 * Upstash Redis REST emulator: lets `@upstash/redis` and `@upstash/ratelimit` run offline against
 * an in-process ioredis-mock (default) or a real Redis. Development and test tool only.
 */
import type { AddressInfo } from 'node:net'
import { MockBackend } from './backends/mock.js'
import { RedisBackend } from './backends/redis.js'
import type { Backend } from './backends/types.js'
import { type RedisEmulatorOptions, resolveOptions } from './config.js'
import { createEmulatorServer } from './server.js'

export {
  DEFAULT_PORT,
  DEFAULT_TOKEN,
  type RedisEmulatorOptions,
  redisEmulatorOptionsFromEnv,
} from './config.js'

export interface RedisEmulator {
  port: number
  /** http://127.0.0.1:<port> (or the configured host) */
  url: string
  token: string
  close(): Promise<void>
}

export async function startRedisEmulator(
  options: RedisEmulatorOptions = {},
): Promise<RedisEmulator> {
  const resolved = resolveOptions(options)
  const backend: Backend =
    resolved.backend === 'redis' ? await RedisBackend.connect(resolved.redisUrl) : new MockBackend()
  const server = createEmulatorServer(backend, resolved.token)
  server.keepAliveTimeout = 30_000

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(resolved.port, resolved.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    await backend.close()
    throw error
  }

  const port = (server.address() as AddressInfo).port
  const wildcard = ['0.0.0.0', '::', ''].includes(resolved.host)
  const host = wildcard
    ? '127.0.0.1'
    : resolved.host.includes(':')
      ? `[${resolved.host}]`
      : resolved.host
  let closing: Promise<void> | undefined
  return {
    port,
    url: `http://${host}:${port}`,
    token: resolved.token,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        await backend.close()
      })()
      return closing
    },
  }
}
