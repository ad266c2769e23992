import { fileURLToPath } from 'node:url'
import { neon, neonConfig, Pool } from '@neondatabase/serverless'
import { asc, cosineDistance, l2Distance, sql as raw } from 'drizzle-orm'
import { drizzle as drizzleHttp } from 'drizzle-orm/neon-http'
import { migrate as migrateHttp } from 'drizzle-orm/neon-http/migrator'
import { drizzle as drizzleWs } from 'drizzle-orm/neon-serverless'
import { migrate as migrateWs } from 'drizzle-orm/neon-serverless/migrator'
import { pgTable, serial, text, vector } from 'drizzle-orm/pg-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configureNeonForEmulator } from './client'
import { startTestEmulator, type TestEmulator, vectorAvailable } from './testing'

const migrationsFolder = fileURLToPath(new URL('./fixtures/migrations', import.meta.url))

const items = pgTable('items', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  embedding: vector('embedding', { dimensions: 3 }).notNull(),
})

let env: TestEmulator
let pool: Pool
let hasVector = false

beforeAll(async () => {
  env = await startTestEmulator('drizzle')
  configureNeonForEmulator(neonConfig, env.emulator.url)
  pool = new Pool({ connectionString: env.emulator.connectionString })
  hasVector = await vectorAvailable(env.emulator.directConnectionString)
})

afterAll(async () => {
  await pool?.end()
  await env?.stop()
})

async function resetSchema() {
  await pool.query('drop table if exists items; drop schema if exists drizzle cascade')
}

async function tableExists(): Promise<boolean> {
  const { rows } = await pool.query("select to_regclass('public.items') is not null as present")
  return rows[0].present
}

describe('drizzle-orm migrations and queries', () => {
  it('migrates and queries through neon-serverless (WebSocket)', async () => {
    const db = drizzleWs({ client: pool })
    if (!hasVector) {
      // A real server without pgvector: the migration fails with the server's error.
      expect(env.backend).toBe('postgres')
      await expect(migrateWs(db, { migrationsFolder })).rejects.toThrow()
      return
    }
    await resetSchema()
    await migrateWs(db, { migrationsFolder })
    expect(await tableExists()).toBe(true)
    // A second run finds nothing new to apply.
    await migrateWs(db, { migrationsFolder })
    const applied = await pool.query('select count(*)::int as n from drizzle.__drizzle_migrations')
    expect(applied.rows[0].n).toBe(2)

    await db.insert(items).values([
      { name: 'east', embedding: [1, 0, 0] },
      { name: 'north', embedding: [0, 1, 0] },
      { name: 'mostly east', embedding: [0.9, 0.1, 0] },
    ])
    const nearest = await db
      .select({ name: items.name, embedding: items.embedding })
      .from(items)
      .orderBy(l2Distance(items.embedding, [1, 0, 0]))
      .limit(2)
    expect(nearest).toEqual([
      { name: 'east', embedding: [1, 0, 0] },
      { name: 'mostly east', embedding: [0.9, 0.1, 0] },
    ])
    const result = await db.transaction(async (tx) => {
      await tx.insert(items).values({ name: 'up', embedding: [0, 0, 1] })
      return tx.select({ n: raw<number>`count(*)::int` }).from(items)
    })
    expect(result).toEqual([{ n: 4 }])
  })

  it('migrates and queries through neon-http', async () => {
    const client = neon(env.emulator.connectionString)
    const db = drizzleHttp({ client })
    if (!hasVector) {
      expect(env.backend).toBe('postgres')
      await expect(migrateHttp(db, { migrationsFolder })).rejects.toThrow()
      return
    }
    await resetSchema()
    await migrateHttp(db, { migrationsFolder })
    expect(await tableExists()).toBe(true)
    await db.insert(items).values([
      { name: 'a', embedding: [1, 1, 0] },
      { name: 'b', embedding: [0, 0, 1] },
    ])
    const byCosine = await db
      .select({ name: items.name })
      .from(items)
      .orderBy(cosineDistance(items.embedding, [0, 0, 2]), asc(items.id))
    expect(byCosine).toEqual([{ name: 'b' }, { name: 'a' }])
    const first = await db
      .select({ embedding: items.embedding })
      .from(items)
      .orderBy(asc(items.id))
      .limit(1)
    expect(first).toEqual([{ embedding: [1, 1, 0] }])
  })
})
