// Test helpers: start an emulator on the backend the environment selects. With
// NEON_EMULATOR_BACKEND=postgres each caller gets its own fresh database on the real server
// (dropped again by `stop`), so parallel files and CI runs never collide.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { DEFAULT_POSTGRES_URL, neonEmulatorOptionsFromEnv } from './options'
import { type NeonEmulator, startNeonEmulator } from './server'

export interface TestEmulator {
  emulator: NeonEmulator
  backend: 'pglite' | 'postgres'
  stop(): Promise<void>
}

export async function startTestEmulator(label: string): Promise<TestEmulator> {
  const env = neonEmulatorOptionsFromEnv()
  if (env.backend !== 'postgres') {
    const emulator = await startNeonEmulator({ port: 0, backend: 'pglite' })
    return { emulator, backend: 'pglite', stop: () => emulator.close() }
  }
  const serverUrl = new URL(env.postgresUrl ?? DEFAULT_POSTGRES_URL)
  const database = `neon_emu_${label.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`
  await adminQuery(serverUrl, `CREATE DATABASE ${database}`)
  const testUrl = new URL(serverUrl)
  testUrl.pathname = `/${database}`
  const emulator = await startNeonEmulator({
    port: 0,
    backend: 'postgres',
    postgresUrl: testUrl.toString(),
  })
  return {
    emulator,
    backend: 'postgres',
    async stop() {
      await emulator.close()
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    },
  }
}

async function adminQuery(serverUrl: URL, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl.toString() })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** True when the backend can create the pgvector extension. */
export async function vectorAvailable(directConnectionString: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: directConnectionString })
  await client.connect()
  try {
    const { rows } = await client.query(
      "select count(*)::int as n from pg_available_extensions where name = 'vector'",
    )
    return rows[0].n === 1
  } finally {
    await client.end()
  }
}
