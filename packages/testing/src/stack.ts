import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runMigrations } from '@synthstack/db/migrate'
import {
  type NeonEmulatorOptions,
  neonEmulatorOptionsFromEnv,
  startNeonEmulator,
} from '@synthstack/emulator-neon'
import { qstashEmulatorOptionsFromEnv, startQStashEmulator } from '@synthstack/emulator-qstash'
import { redisEmulatorOptionsFromEnv, startRedisEmulator } from '@synthstack/emulator-redis'
import { createFreshDatabase, type FreshDatabase } from './fresh-database'

export interface TestStackOptions {
  /** Where `*_EMULATOR_*` variables are read from (default `process.env`). */
  env?: NodeJS.ProcessEnv
  /** QStash delays, retries and schedules run this much faster-or-slower (default 0.01). */
  qstashTimeScale?: number
  /** Keep QStash state on disk in a temporary folder removed on close (default: memory). */
  qstashPersist?: boolean
  /** Apply packages/db migrations (default true). */
  migrate?: boolean
}

/** The Worker bindings a stack provides (names as in wrangler.toml / .dev.vars). */
export interface TestStackEnv extends Record<string, string> {
  DATABASE_URL: string
  NEON_EMULATOR_URL: string
  UPSTASH_REDIS_REST_URL: string
  UPSTASH_REDIS_REST_TOKEN: string
  QSTASH_URL: string
  QSTASH_TOKEN: string
  QSTASH_CURRENT_SIGNING_KEY: string
  QSTASH_NEXT_SIGNING_KEY: string
}

export interface TestStack {
  env: TestStackEnv
  /** Which backends the emulators run on, for test names and diagnostics. */
  backends: { neon: 'pglite' | 'postgres'; redis: 'mock' | 'redis' }
  close(): Promise<void>
}

/**
 * Starts the Neon, Upstash Redis and QStash emulators on ephemeral ports with the backends the
 * environment asks for (embedded by default). With the postgres backend a fresh database is
 * created for this stack and dropped on close. Migrations are applied before it returns.
 */
export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const env = options.env ?? process.env
  // Read every option first: a bad variable fails before anything starts.
  const neonOptions: NeonEmulatorOptions = { ...neonEmulatorOptionsFromEnv(env), port: 0 }
  const redisOptions = { ...redisEmulatorOptionsFromEnv(env), port: 0 }
  const qstashOptions = {
    ...qstashEmulatorOptionsFromEnv(stripQStashCredentials(env)),
    port: 0,
    timeScale: options.qstashTimeScale ?? 0.01,
  }
  delete neonOptions.host
  delete redisOptions.host

  const cleanups: (() => Promise<void>)[] = []
  const closeAll = async () => {
    const errors: unknown[] = []
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup()
      } catch (error) {
        errors.push(error)
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'test stack: close failed')
  }

  try {
    let database: FreshDatabase | undefined
    if (neonOptions.backend === 'postgres') {
      database = await createFreshDatabase(neonOptions.postgresUrl)
      cleanups.push(() => (database as FreshDatabase).drop())
      neonOptions.postgresUrl = database.url
    }
    if (options.qstashPersist) {
      const dir = await mkdtemp(join(tmpdir(), 'synthstack-qstash-'))
      cleanups.push(() => rm(dir, { recursive: true, force: true }))
      Object.assign(qstashOptions, { dataDir: dir })
    }

    // allSettled: when one fails, the others have still finished starting and get closed.
    const started = await Promise.allSettled([
      startNeonEmulator(neonOptions),
      startRedisEmulator(redisOptions),
      startQStashEmulator(qstashOptions),
    ] as const)
    for (const result of started) {
      if (result.status === 'fulfilled') {
        const emulator = result.value
        cleanups.push(() => emulator.close())
      }
    }
    const [neon, redis, qstash] = started.map((result) => {
      if (result.status === 'rejected') throw result.reason
      return result.value
    }) as [
      Awaited<ReturnType<typeof startNeonEmulator>>,
      Awaited<ReturnType<typeof startRedisEmulator>>,
      Awaited<ReturnType<typeof startQStashEmulator>>,
    ]

    const stackEnv: TestStackEnv = {
      DATABASE_URL: neon.connectionString,
      NEON_EMULATOR_URL: neon.url,
      UPSTASH_REDIS_REST_URL: redis.url,
      UPSTASH_REDIS_REST_TOKEN: redis.token,
      QSTASH_URL: qstash.url,
      QSTASH_TOKEN: qstash.token,
      QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
    }
    if (options.migrate ?? true) {
      await runMigrations({
        databaseUrl: stackEnv.DATABASE_URL,
        neonEmulatorUrl: stackEnv.NEON_EMULATOR_URL,
      })
    }
    return {
      env: stackEnv,
      backends: {
        neon: neonOptions.backend ?? 'pglite',
        redis: redisOptions.backend ?? 'mock',
      },
      close: closeAll,
    }
  } catch (error) {
    await closeAll().catch(() => {})
    throw error
  }
}

/**
 * qstashEmulatorOptionsFromEnv also reads QSTASH_TOKEN and the signing keys; a test process may
 * have real ones set for other reasons, so the stack always uses the emulator's dev credentials.
 */
function stripQStashCredentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { QSTASH_TOKEN, QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY, ...rest } = env
  return rest
}
