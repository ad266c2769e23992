/**
 * Applies the SQL migrations in ../migrations through the Neon driver (WebSocket Pool), so one
 * command works for the local emulator (PGlite or PostgreSQL behind it) and for real Neon.
 *
 *   DATABASE_URL=... [NEON_EMULATOR_URL=http://127.0.0.1:4444] pnpm --filter @synthstack/db run migrate
 *
 * Node-only (reads the migration files from disk); never imported by a Worker.
 */
import { fileURLToPath } from 'node:url'
import { neonConfig, Pool } from '@neondatabase/serverless'
import { drizzle } from 'drizzle-orm/neon-serverless'
import { migrate } from 'drizzle-orm/neon-serverless/migrator'
import ws from 'ws'
import { applyNeonEnv, type DbEnv } from './client'

export const migrationsFolder = fileURLToPath(new URL('../migrations', import.meta.url))

export interface MigrateOptions {
  databaseUrl: string
  /** Local Neon emulator URL; omit for real Neon. */
  neonEmulatorUrl?: string | undefined
}

/** Applies pending migrations; already-applied ones are skipped (drizzle's journal table). */
export async function runMigrations(options: MigrateOptions): Promise<void> {
  const env: DbEnv = {
    DATABASE_URL: options.databaseUrl,
    NEON_EMULATOR_URL: options.neonEmulatorUrl,
  }
  // Node 20 has no global WebSocket: real Neon and the emulator both need `ws` here.
  neonConfig.webSocketConstructor = ws
  applyNeonEnv(env, { webSocketConstructor: ws })
  // One connection: the embedded PGlite backend serves one at a time.
  const pool = new Pool({ connectionString: options.databaseUrl, max: 1 })
  try {
    await migrate(drizzle({ client: pool }), { migrationsFolder })
  } finally {
    await pool.end()
  }
}

/** Hides credentials when a URL must be shown (e.g. `postgres://user:***@host/db`). */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value)
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    return '<unparseable URL>'
  }
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL
  if (!databaseUrl) {
    console.error('migrate: DATABASE_URL is required')
    process.exit(2)
  }
  const neonEmulatorUrl = process.env.NEON_EMULATOR_URL || undefined
  const target = neonEmulatorUrl ? `via Neon emulator ${neonEmulatorUrl}` : 'on Neon'
  console.log(`migrate: applying ${migrationsFolder} to ${redactUrl(databaseUrl)} ${target}`)
  await runMigrations({ databaseUrl, neonEmulatorUrl })
  console.log('migrate: done')
}

/** An error's message and its causes' (drizzle wraps the driver's error as "Failed query: …"). */
function messagesOf(error: unknown): string[] {
  const messages: string[] = []
  for (let e: unknown = error; e !== undefined && messages.length < 5; ) {
    messages.push(e instanceof Error ? e.message.trim() : String(e))
    e = e instanceof Error ? e.cause : undefined
  }
  return messages
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    // The driver's messages carry no password; print only the messages, not the config.
    console.error(`migrate: failed: ${messagesOf(error).join(': ')}`)
    process.exit(1)
  })
}
