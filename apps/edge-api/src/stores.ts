import { createDb, type HttpDb } from '@synthstack/db'
import { Redis } from '@upstash/redis/cloudflare'
import type { Config } from './config'

/**
 * One Redis client and one drizzle (neon-http) handle per validated config, i.e. per isolate.
 * Both are stateless HTTP clients, so sharing them across requests holds no I/O object open.
 */
const redisClients = new WeakMap<Config, Redis>()
const dbs = new WeakMap<Config, HttpDb>()

export function getRedis(config: Config): Redis {
  let redis = redisClients.get(config)
  if (!redis) {
    redis = new Redis({
      url: config.UPSTASH_REDIS_REST_URL,
      token: config.UPSTASH_REDIS_REST_TOKEN,
      enableTelemetry: false,
      // Commands issued in the same tick share one /pipeline request.
      enableAutoPipelining: true,
      // One quick retry: an unreachable Redis must not hold a request for seconds.
      retry: { retries: 1, backoff: () => 20 },
    })
    redisClients.set(config, redis)
  }
  return redis
}

export function getDb(config: Config): HttpDb {
  let db = dbs.get(config)
  if (!db) {
    db = createDb({
      DATABASE_URL: config.DATABASE_URL,
      NEON_EMULATOR_URL: config.NEON_EMULATOR_URL,
    })
    dbs.set(config, db)
  }
  return db
}

export const dbEnvOf = (config: Config) => ({
  DATABASE_URL: config.DATABASE_URL,
  NEON_EMULATOR_URL: config.NEON_EMULATOR_URL,
})

/** Redis key namespace for this app. */
export const redisKey = (...parts: string[]) => `ss:${parts.join(':')}`
