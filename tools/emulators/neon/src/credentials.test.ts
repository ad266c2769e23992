import { Client, neon, neonConfig, Pool } from '@neondatabase/serverless'
import { sql as raw } from 'drizzle-orm'
import { drizzle as drizzleHttp } from 'drizzle-orm/neon-http'
import { drizzle as drizzleWs } from 'drizzle-orm/neon-serverless'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configureNeonForEmulator } from './client'
import { neonEmulatorOptionsFromEnv } from './options'
import { type NeonEmulator, PGLITE_CONNECTION_STRING, startNeonEmulator } from './server'
import { startTestEmulator, type TestEmulator } from './testing'

// Wrong credentials through the official driver, answered the way Neon answers them (see
// credentials.ts). The real server behind the postgres backend does its own authentication
// (locally it trusts every password), so there only the unknown-database cases apply.
const onPostgres = neonEmulatorOptionsFromEnv().backend === 'postgres'

let env: TestEmulator
let good: string

beforeAll(async () => {
  env = await startTestEmulator('credentials')
  configureNeonForEmulator(neonConfig, env.emulator.url)
  good = env.emulator.connectionString
  const pool = new Pool({ connectionString: good })
  await pool.query('create table kept (id int primary key, note text)')
  await pool.query("insert into kept values (1, 'stored before the bad attempts')")
  await pool.end()
})

afterAll(async () => {
  await env?.stop()
})

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field below
type Json = any

function variant(
  connectionString: string,
  change: { user?: string; password?: string | null; database?: string },
): string {
  const url = new URL(connectionString)
  if (change.user !== undefined) url.username = encodeURIComponent(change.user)
  if (change.password === null) url.password = ''
  else if (change.password !== undefined) url.password = encodeURIComponent(change.password)
  if (change.database !== undefined) url.pathname = `/${encodeURIComponent(change.database)}`
  return url.toString()
}

/** A raw SQL-over-HTTP call, to see the status and body the driver turns into an error. */
async function post(emulator: NeonEmulator, connectionString: string) {
  const res = await fetch(`${emulator.url}/sql`, {
    method: 'POST',
    headers: { 'Neon-Connection-String': connectionString, 'Content-Type': 'application/json' },
    body: JSON.stringify({ query: 'select 1 as one', params: [] }),
  })
  return { status: res.status, json: (await res.json()) as Json }
}

/** Runs `fn` with the driver's pipelined connect on or off, as the tests below need both. */
async function withPipeline<T>(mode: 'password' | false, fn: () => Promise<T>): Promise<T> {
  const before = neonConfig.pipelineConnect
  neonConfig.pipelineConnect = mode
  try {
    return await fn()
  } finally {
    neonConfig.pipelineConnect = before
  }
}

/** Connects a Pool and runs one query; resolves to the error it fails with. */
async function poolError(connectionString: string): Promise<unknown> {
  const pool = new Pool({ connectionString, max: 1 })
  pool.on('error', () => {})
  try {
    await pool.query('select 1 as one')
  } catch (err) {
    return err
  } finally {
    await pool.end().catch(() => {})
  }
  throw new Error('the query succeeded')
}

async function expectRowsKept(connectionString: string) {
  expect(await neon(connectionString)`select id, note from kept`).toEqual([
    { id: 1, note: 'stored before the bad attempts' },
  ])
  const pool = new Pool({ connectionString })
  try {
    expect((await pool.query('select count(*)::int as n from kept')).rows).toEqual([{ n: 1 }])
  } finally {
    await pool.end()
  }
}

describe('neon() over HTTP', () => {
  it.skipIf(onPostgres)(
    "refuses a wrong password or unknown user with Neon's 400 and code ''",
    async () => {
      for (const [bad, user] of [
        [variant(good, { password: 'wrong' }), 'postgres'],
        [variant(good, { user: 'nobody' }), 'nobody'],
        // The password is checked first: an unknown database does not change the answer.
        [variant(good, { password: 'wrong', database: 'no_such_db' }), 'postgres'],
      ] as const) {
        const message = `password authentication failed for user '${user}'`
        const res = await post(env.emulator, bad)
        expect(res.status).toBe(400)
        expect(res.json).toMatchObject({ message, code: '', severity: '', detail: null })
        await expect(neon(bad)`select 1`).rejects.toMatchObject({
          name: 'NeonDbError',
          message,
          code: '',
        })
      }
      const res = await post(env.emulator, variant(good, { password: null }))
      expect(res.status).toBe(400)
      expect(res.json.message).toBe('missing authentication credentials: required password')
      expect(JSON.stringify(res.json)).not.toContain(':wrong@')
      await expectRowsKept(good)
    },
  )

  it('refuses an unknown database with the 500 and 3D000 fields Neon gives', async () => {
    const bad = variant(good, { database: 'no_such_db' })
    const res = await post(env.emulator, bad)
    expect(res.status).toBe(500)
    expect(res.json).toMatchObject({
      message: 'database "no_such_db" does not exist',
      code: '3D000',
      severity: 'FATAL',
      routine: 'InitPostgres',
    })
    // The driver reads error fields only from 400 answers; a 500 becomes a "Server error".
    const error = await neon(bad)`select 1`.catch((err: Error) => err)
    expect(error).toMatchObject({ name: 'NeonDbError' })
    expect((error as Error).message).toMatch(/^Server error \(HTTP status 500\): .*"3D000"/)
    await expectRowsKept(good)
  })

  it.skipIf(onPostgres)('refuses wrong credentials through drizzle neon-http', async () => {
    const db = drizzleHttp({ client: neon(variant(good, { password: 'wrong' })) })
    const error = await db.execute(raw`select 1`).catch((err: Error) => err)
    // drizzle wraps the driver's NeonDbError as the cause of its own error.
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).cause).toMatchObject({
      name: 'NeonDbError',
      message: "password authentication failed for user 'postgres'",
      code: '',
    })
    const ok = drizzleHttp({ client: neon(good) })
    expect((await ok.execute(raw`select note from kept`)).rows).toEqual([
      { note: 'stored before the bad attempts' },
    ])
  })
})

describe('Pool and Client over WebSocket', () => {
  for (const mode of ['password', false] as const) {
    it.skipIf(onPostgres)(
      `refuses wrong credentials like Neon's proxy (pipelineConnect ${mode})`,
      async () => {
        await withPipeline(mode, async () => {
          for (const [bad, message] of [
            [
              variant(good, { password: 'wrong' }),
              "password authentication failed for user 'postgres'",
            ],
            [variant(good, { user: 'nobody' }), "password authentication failed for user 'nobody'"],
            [variant(good, { database: 'no_such_db' }), 'database "no_such_db" does not exist'],
          ] as const) {
            expect(await poolError(bad)).toMatchObject({
              message,
              code: 'XX000',
              severity: 'ERROR',
            })
          }
          // A Client with right credentials connects and queries in this mode.
          const client = new Client(good)
          await client.connect()
          expect((await client.query('select note from kept')).rows).toEqual([
            { note: 'stored before the bad attempts' },
          ])
          await client.end()
        })
        await expectRowsKept(good)
      },
    )
  }

  it('refuses an unknown database', async () => {
    // Against a real server the driver must not pipeline (it may ask for SCRAM).
    const error = await withPipeline(false, () =>
      poolError(variant(good, { database: 'no_such_db' })),
    )
    const message = 'database "no_such_db" does not exist'
    if (env.backend === 'postgres') {
      // The postgres backend pipes bytes: the real server answers itself.
      expect(error).toMatchObject({ message, code: '3D000', severity: 'FATAL' })
    } else {
      expect(error).toMatchObject({ message, code: 'XX000', severity: 'ERROR' })
    }
    await expectRowsKept(good)
  })

  it.skipIf(onPostgres)('refuses wrong credentials through drizzle neon-serverless', async () => {
    const pool = new Pool({ connectionString: variant(good, { user: 'nobody' }) })
    pool.on('error', () => {})
    const error = await drizzleWs({ client: pool })
      .execute(raw`select 1`)
      .catch((err: Error) => err)
    await pool.end().catch(() => {})
    expect((error as Error).cause).toMatchObject({
      message: "password authentication failed for user 'nobody'",
      code: 'XX000',
    })
    await expectRowsKept(good)
  })
})

describe.skipIf(onPostgres)('configured role, password and database (PGlite)', () => {
  const credentials = { user: 'app_user', password: 'p@ss w:rd/é', database: 'app_db' }
  let emulator: NeonEmulator

  beforeAll(async () => {
    emulator = await startNeonEmulator({ port: 0, ...credentials })
  })

  afterAll(async () => {
    await emulator?.close()
  })

  it('serves its own credentials through neon(), Pool and pg, and refuses the defaults', async () => {
    const url = new URL(emulator.connectionString)
    expect(decodeURIComponent(url.username)).toBe(credentials.user)
    expect(decodeURIComponent(url.password)).toBe(credentials.password)
    expect(url.pathname).toBe('/app_db')

    // neonConfig points at one emulator at a time; this one for now.
    configureNeonForEmulator(neonConfig, emulator.url)
    try {
      await neon(emulator.connectionString)`create table own (id int)`
      await neon(emulator.connectionString)`insert into own values (7)`
      for (const mode of ['password', false] as const) {
        await withPipeline(mode, async () => {
          const pool = new Pool({ connectionString: emulator.connectionString })
          expect((await pool.query('select id from own')).rows).toEqual([{ id: 7 }])
          await pool.end()
          expect(await poolError(PGLITE_CONNECTION_STRING)).toMatchObject({
            message: "password authentication failed for user 'postgres'",
            code: 'XX000',
          })
        })
      }
      const res = await post(emulator, PGLITE_CONNECTION_STRING)
      expect(res.status).toBe(400)
      expect(res.json.message).toBe("password authentication failed for user 'postgres'")
    } finally {
      configureNeonForEmulator(neonConfig, env.emulator.url)
    }

    // The plain wire-protocol listener checks the same credentials.
    const direct = new pg.Client({ connectionString: emulator.directConnectionString })
    await direct.connect()
    expect((await direct.query('select id from own')).rows).toEqual([{ id: 7 }])
    await direct.end()
    const wrong = new pg.Client({
      connectionString: variant(emulator.directConnectionString, { password: 'nope' }),
    })
    await expect(wrong.connect()).rejects.toMatchObject({
      message: "password authentication failed for user 'app_user'",
      code: 'XX000',
    })
  })

  it('rejects unusable credentials at start, naming the option', async () => {
    await expect(startNeonEmulator({ port: 0, user: '' })).rejects.toThrow(/^user /)
    await expect(startNeonEmulator({ port: 0, database: 'x'.repeat(64) })).rejects.toThrow(
      /^database /,
    )
    await expect(startNeonEmulator({ port: 0, password: 'a\0b' })).rejects.toThrow(/^password /)
  })
})
