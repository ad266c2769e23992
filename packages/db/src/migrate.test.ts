import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  type NeonEmulator,
  neonEmulatorOptionsFromEnv,
  startNeonEmulator,
} from '@synthstack/emulator-neon'
import { eq, sql } from 'drizzle-orm'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import ws from 'ws'
import { createDb, createSql, type DbEnv, withPoolDb } from './client'
import { redactUrl, runMigrations } from './migrate'
import { workspaces } from './schema'

// Backend from NEON_EMULATOR_BACKEND (default: embedded PGlite). With PostgreSQL, a fresh
// database is created for this file and dropped afterwards.
const options = { ...neonEmulatorOptionsFromEnv(), port: 0 }
let emulator: NeonEmulator
let env: DbEnv
let dropDatabase: (() => Promise<void>) | undefined

async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  if (options.backend === 'postgres') {
    const serverUrl = options.postgresUrl ?? 'postgres://postgres@127.0.0.1:5432/test'
    const name = `synthstack_db_test_${randomBytes(5).toString('hex')}`
    await admin(serverUrl, (c) => c.query(`create database "${name}"`))
    dropDatabase = () =>
      admin(serverUrl, async (c) => {
        await c.query(`drop database if exists "${name}" with (force)`)
      })
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    options.postgresUrl = url.toString()
  }
  emulator = await startNeonEmulator(options)
  env = { DATABASE_URL: emulator.connectionString, NEON_EMULATOR_URL: emulator.url }
})

afterAll(async () => {
  await emulator?.close()
  await dropDatabase?.()
})

// Every migration drizzle-kit wrote (and the custom ones) is listed in its journal.
const journal = JSON.parse(
  readFileSync(fileURLToPath(new URL('../migrations/meta/_journal.json', import.meta.url)), 'utf8'),
) as { entries: { tag: string }[] }

const appliedMigrations = async () => {
  const rows = await createSql(env).query('select hash from drizzle.__drizzle_migrations')
  return rows.length
}

describe(`migrations (${options.backend ?? 'pglite'} backend)`, () => {
  it('apply on a fresh database', async () => {
    await runMigrations({ databaseUrl: env.DATABASE_URL, neonEmulatorUrl: env.NEON_EMULATOR_URL })
    expect(journal.entries.length).toBeGreaterThanOrEqual(2)
    expect(await appliedMigrations()).toBe(journal.entries.length)
    const tables = await createSql(env).query(
      "select table_name from information_schema.tables where table_schema = 'public'",
    )
    expect(tables.map((t) => t.table_name)).toContain('workspaces')
  })

  it('re-applying is a no-op', async () => {
    const before = await appliedMigrations()
    await runMigrations({ databaseUrl: env.DATABASE_URL, neonEmulatorUrl: env.NEON_EMULATOR_URL })
    expect(await appliedMigrations()).toBe(before)
  })

  it('installs the vector extension', async () => {
    const db = createSql(env)
    const ext = await db.query("select extversion from pg_extension where extname = 'vector'")
    expect(ext[0]?.extversion).toMatch(/^\d+\.\d+/)
    const distance = await db.query("select '[1,2,3]'::vector <-> '[1,2,4]'::vector as d")
    expect(Number(distance[0]?.d)).toBeCloseTo(1)
  })
})

describe('createDb (neon-http) and withPoolDb (WebSocket Pool)', () => {
  it('inserts and reads a workspace with defaults filled in', async () => {
    const db = createDb(env)
    const [created] = await db.insert(workspaces).values({ name: 'Acme' }).returning()
    expect(created?.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(created?.plan).toBe('free')
    expect(created?.createdAt).toBeInstanceOf(Date)
    const found = await db.query.workspaces.findFirst({
      where: eq(workspaces.id, created?.id as string),
    })
    expect(found?.name).toBe('Acme')
  })

  it('enforces the plan check constraint', async () => {
    const db = createDb(env)
    const error = await db
      .execute(sql`insert into workspaces (name, plan) values ('Bad', 'platinum')`)
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    // drizzle wraps the driver error; the Postgres one (check_violation) is its cause.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    expect(cause?.code).toBe('23514')
    expect(cause?.message).toMatch(/workspaces_plan_check/)
  })

  it('rolls back a failed transaction on a per-call Pool', async () => {
    const name = `rollback-${randomBytes(4).toString('hex')}`
    await expect(
      withPoolDb(
        env,
        (db) =>
          db.transaction(async (tx) => {
            await tx.insert(workspaces).values({ name })
            throw new Error('abort on purpose')
          }),
        { webSocketConstructor: ws },
      ),
    ).rejects.toThrow('abort on purpose')
    const rows = await createDb(env).select().from(workspaces).where(eq(workspaces.name, name))
    expect(rows).toHaveLength(0)

    const committed = await withPoolDb(
      env,
      (db) =>
        db.transaction((tx) => tx.insert(workspaces).values({ name, plan: 'pro' }).returning()),
      { webSocketConstructor: ws },
    )
    expect(committed[0]?.plan).toBe('pro')
  })
})

describe('migrate command (pnpm run migrate)', () => {
  const run = (vars: Record<string, string>) =>
    promisify(execFile)('pnpm', ['exec', 'tsx', 'src/migrate.ts'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { PATH: process.env.PATH, ...vars },
    }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        out: e.stdout + e.stderr,
      }),
    )

  it('applies migrations through the emulator', async () => {
    const result = await run({
      DATABASE_URL: env.DATABASE_URL,
      NEON_EMULATOR_URL: env.NEON_EMULATOR_URL as string,
    })
    expect(result.out).toContain('migrate: done')
    expect(result.code).toBe(0)
  })

  it.skipIf(process.env.NEON_EMULATOR_BACKEND === 'postgres')(
    'refuses a wrong password without printing it',
    async () => {
      // The PGlite emulator checks credentials as Neon does; the real server here trusts all.
      const url = new URL(env.DATABASE_URL)
      url.password = 'not-printed-pw'
      const result = await run({
        DATABASE_URL: url.toString(),
        NEON_EMULATOR_URL: env.NEON_EMULATOR_URL as string,
      })
      expect(result.code).not.toBe(0)
      expect(result.out, result.out).toContain('password authentication failed')
      expect(result.out).not.toContain('not-printed-pw')
    },
  )

  it('fails with a clear message when DATABASE_URL is missing', async () => {
    const result = await run({})
    expect(result.code).toBe(2)
    expect(result.out).toContain('DATABASE_URL is required')
  })
})

describe('redactUrl', () => {
  it('hides the password only', () => {
    expect(redactUrl('postgres://user:hunter2@db.example/app')).toBe(
      'postgres://user:***@db.example/app',
    )
    expect(redactUrl('nonsense')).toBe('<unparseable URL>')
  })
})
