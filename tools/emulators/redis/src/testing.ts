/**
 * Test support: starts an emulator on an ephemeral port against the backend the environment
 * selects (REDIS_EMULATOR_BACKEND=redis + REDIS_EMULATOR_REDIS_URL for a real Redis, else the
 * mock) and gives each test a unique key prefix, so runs against a shared Redis never collide.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from '@upstash/redis'
import { type RedisEmulator, redisEmulatorOptionsFromEnv, startRedisEmulator } from './index.js'

export interface TestEmulator {
  emulator: RedisEmulator
  backend: 'mock' | 'redis'
  /** Official client, auto-pipelining on (its default). */
  redis: Redis
  /** Per-call unique key prefix. */
  prefix(): string
  /** POST a raw body to a path, with the right token unless `token` says otherwise. */
  raw(
    path: string,
    body: string | undefined,
    init?: RawInit,
  ): Promise<{ status: number; json: unknown }>
  /** Deletes keys this run created (on a real Redis) and stops the emulator. */
  close(): Promise<void>
}

export interface RawInit {
  token?: string | null
  method?: string
  headers?: Record<string, string>
}

export async function startTestEmulator(): Promise<TestEmulator> {
  const env = redisEmulatorOptionsFromEnv()
  const backend = env.backend ?? 'mock'
  const emulator = await startRedisEmulator({
    port: 0,
    backend,
    ...(env.redisUrl ? { redisUrl: env.redisUrl } : {}),
  })
  const run = `test:${randomUUID()}:`
  const redis = new Redis({ url: emulator.url, token: emulator.token, retry: false })

  return {
    emulator,
    backend,
    redis,
    prefix: () => `${run}${randomUUID().slice(0, 8)}:`,
    async raw(path, body, init = {}) {
      const headers: Record<string, string> = { ...init.headers }
      const token = init.token === undefined ? emulator.token : init.token
      if (token !== null) headers.authorization = `Bearer ${token}`
      const method = init.method ?? (body === undefined ? 'GET' : 'POST')
      const response = await fetch(`${emulator.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      })
      const text = await response.text()
      let json: unknown = text
      try {
        json = JSON.parse(text)
      } catch {}
      return { status: response.status, json }
    },
    async close() {
      if (backend === 'redis') {
        let cursor = '0'
        do {
          const [next, keys] = await redis.scan(cursor, { match: `${run}*`, count: 1000 })
          if (keys.length > 0) await redis.del(...keys)
          cursor = String(next)
        } while (cursor !== '0')
      }
      await emulator.close()
    },
  }
}
