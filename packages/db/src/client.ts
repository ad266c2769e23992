import { neon, neonConfig, Pool } from '@neondatabase/serverless'
import { drizzle as drizzleHttp, type NeonHttpDatabase } from 'drizzle-orm/neon-http'
import { drizzle as drizzleWs, type NeonDatabase } from 'drizzle-orm/neon-serverless'
import { configureNeonForEmulator, type NeonLocalOptions } from './neon-local'
import * as schema from './schema'

/** The bindings the database layer reads. */
export interface DbEnv {
  DATABASE_URL: string
  /** Local Neon emulator (`http://127.0.0.1:4444`). Leave unset for real Neon. */
  NEON_EMULATOR_URL?: string | undefined
}

export type Schema = typeof schema
export type HttpDb = NeonHttpDatabase<Schema>
export type PoolDb = NeonDatabase<Schema>

let configuredFor: string | undefined

/**
 * Sets the driver's global config for the emulator once per isolate (or process) when
 * `NEON_EMULATOR_URL` is set; leaves it untouched otherwise.
 */
export function applyNeonEnv(env: DbEnv, options: NeonLocalOptions = {}): void {
  const url = env.NEON_EMULATOR_URL
  if (!url) return
  const key = `${url}|${options.webSocketConstructor ? 'ws' : ''}`
  if (configuredFor === key) return
  configureNeonForEmulator(neonConfig, url, options)
  configuredFor = key
}

/** Drizzle over neon-http: one HTTP round trip per query, no connection to close. */
export function createDb(env: DbEnv): HttpDb {
  applyNeonEnv(env)
  return drizzleHttp({ client: neon(env.DATABASE_URL), schema })
}

/** The raw neon-http tagged-template function, for health checks and one-off SQL. */
export function createSql(env: DbEnv) {
  applyNeonEnv(env)
  return neon(env.DATABASE_URL)
}

/**
 * Runs `fn` with drizzle over a WebSocket `Pool` opened for this call and ended after it,
 * as Workers require (no I/O objects may outlive a request). Use for transactions.
 */
export async function withPoolDb<T>(
  env: DbEnv,
  fn: (db: PoolDb) => Promise<T>,
  options: NeonLocalOptions = {},
): Promise<T> {
  applyNeonEnv(env, options)
  const pool = new Pool({ connectionString: env.DATABASE_URL })
  // An idle client whose socket drops (e.g. as the pool ends) emits 'error' on the pool; without
  // a listener that is an unhandled error that can take the isolate down. Queries in flight
  // still reject on their own. The driver's error carries no credentials; log only its message.
  pool.on('error', (error: Error) => {
    console.warn(`db pool: ${error.message}`)
  })
  try {
    return await fn(drizzleWs({ client: pool, schema }))
  } finally {
    await pool.end()
  }
}
