import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { neonConfig, Pool } from '@neondatabase/serverless'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { configureNeonForEmulator } from './client'
import { PgliteBackend } from './pglite-backend'
import { startNeonEmulator } from './server'

// PGlite-specific behaviour, whatever backend the environment selects for the other files.

const dirs: string[] = []
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

describe('PGlite backend', () => {
  it('keeps data in dataDir across restarts, then serves plain pg clients one transaction at a time', async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'neon-emu-')), 'nested', 'data')
    dirs.push(join(dataDir, '..', '..'))

    const first = await startNeonEmulator({ port: 0, dataDir })
    try {
      configureNeonForEmulator(neonConfig, first.url)
      // The driver's default pipelined connect (password sent unasked) works with PGlite too.
      neonConfig.pipelineConnect = 'password'
      const pool = new Pool({ connectionString: first.connectionString })
      await pool.query('create table kept (id int primary key, note text)')
      await pool.query('insert into kept values ($1, $2)', [1, 'survives'])
      await pool.end()
    } finally {
      await first.close()
    }

    // Reopen the same directory directly, with a short idle-in-transaction limit.
    const backend = await PgliteBackend.open(dataDir, { idleInTransactionTimeoutMs: 300 })
    const port = await backend.listen()
    const connectionString = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`
    const idle = new pg.Client({ connectionString })
    const other = new pg.Client({ connectionString })
    idle.on('error', () => {})
    try {
      await idle.connect()
      await other.connect()
      const { rows } = await other.query('select id, note from kept')
      expect(rows).toEqual([{ id: 1, note: 'survives' }])

      // A transaction left idle blocks the single backend only until the limit.
      await idle.query('begin')
      await idle.query("insert into kept values (2, 'never committed')")
      const started = performance.now()
      const after = await other.query('select count(*)::int as n from kept')
      expect(after.rows[0].n).toBe(1)
      expect(performance.now() - started).toBeGreaterThanOrEqual(250)
      await expect(idle.query('select 1')).rejects.toThrow()
    } finally {
      await other.end()
      await idle.end().catch(() => {})
      await backend.close()
    }
  })
})
