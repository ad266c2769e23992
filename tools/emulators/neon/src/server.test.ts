import { Client, neon, neonConfig, Pool } from '@neondatabase/serverless'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { configureNeonForEmulator } from './client'
import { startTestEmulator, type TestEmulator, vectorAvailable } from './testing'

let env: TestEmulator
let pool: Pool
let url: string
let connectionString: string

beforeAll(async () => {
  env = await startTestEmulator('server')
  url = env.emulator.url
  connectionString = env.emulator.connectionString
  configureNeonForEmulator(neonConfig, url)
  pool = new Pool({ connectionString, max: 12 })
  await pool.query('create table stored_before (id int primary key, note text)')
  await pool.query("insert into stored_before values (1, 'stored before the bad input')")
})

afterAll(async () => {
  await pool?.end()
  await env?.stop()
})

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field below
type Json = any

/** A raw call to the SQL-over-HTTP endpoint, the way the driver makes it. */
async function post(body: string, headers: Record<string, string> = {}, path = '/sql') {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: {
      'Neon-Connection-String': connectionString,
      'Content-Type': 'application/json',
      ...headers,
    },
    body,
  })
  return { status: res.status, headers: res.headers, json: (await res.json()) as Json }
}

/** The server still answers, and still has the row stored before any bad input. */
async function expectServing() {
  const sql = neon(connectionString)
  expect(await sql`select id, note from stored_before`).toEqual([
    { id: 1, note: 'stored before the bad input' },
  ])
}

describe('service endpoints', () => {
  it('answers /health with the backend', async () => {
    const res = await fetch(`${url}/health`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok', backend: env.backend })
  })

  it('answers CORS preflight and sets CORS headers on results', async () => {
    const pre = await fetch(`${url}/sql`, { method: 'OPTIONS' })
    expect(pre.status).toBe(200)
    expect(pre.headers.get('access-control-allow-origin')).toBe('*')
    expect(pre.headers.get('access-control-allow-headers')).toContain('Neon-Connection-String')
    const res = await post(JSON.stringify({ query: 'select 1 as n', params: [] }))
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
  })
})

describe('Pool and Client over WebSocket', () => {
  it('runs parameterised queries on a Pool', async () => {
    const { rows } = await pool.query('select $1::int + $2::int as sum, $3::text as label', [
      40,
      2,
      'x',
    ])
    expect(rows).toEqual([{ sum: 42, label: 'x' }])
  })

  it('runs queries on a Client and ends it cleanly', async () => {
    const client = new Client(connectionString)
    await client.connect()
    const { rows } = await client.query('select upper($1) as up', ['neon'])
    expect(rows).toEqual([{ up: 'NEON' }])
    await client.end()
  })

  it('commits and rolls back explicit transactions', async () => {
    await pool.query('create table tx_demo (id int primary key, note text)')
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query("insert into tx_demo values (1, 'rolled back')")
      expect((await client.query('select count(*)::int as n from tx_demo')).rows[0].n).toBe(1)
      await client.query('ROLLBACK')
      await client.query('BEGIN')
      await client.query("insert into tx_demo values (2, 'kept')")
      await client.query('COMMIT')
    } finally {
      client.release()
    }
    const { rows } = await pool.query('select id, note from tx_demo order by id')
    expect(rows).toEqual([{ id: 2, note: 'kept' }])
  })

  it('serves 10 concurrent queries with the right answers', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        pool.query('select $1::int * 10 as n, pg_sleep(0.01)::text as s', [i]),
      ),
    )
    expect(results.map((r) => r.rows[0].n)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90])
  })

  it('keeps two interleaved transactions apart', async () => {
    await pool.query('create table ledger (who text, amount int)')
    const run = async (who: string, other: string, commit: boolean) => {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const seen: number[] = []
        for (let i = 1; i <= 3; i++) {
          await client.query('insert into ledger values ($1, $2)', [who, i])
          const { rows } = await client.query(
            'select count(*)::int as n from ledger where who = $1',
            [other],
          )
          seen.push(rows[0].n)
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
        const own = await client.query(
          'select sum(amount)::int as total from ledger where who = $1',
          [who],
        )
        await client.query(commit ? 'COMMIT' : 'ROLLBACK')
        return { own: own.rows[0].total as number, seen }
      } finally {
        client.release()
      }
    }
    const [a, b] = await Promise.all([run('a', 'b', true), run('b', 'a', false)])
    expect(a.own).toBe(6)
    expect(b.own).toBe(6)
    // A never sees B's uncommitted rows; B sees none or all of A's rows, never a part.
    expect(a.seen).toEqual([0, 0, 0])
    for (const n of b.seen) expect([0, 3]).toContain(n)
    const { rows } = await pool.query(
      'select who, count(*)::int as n from ledger group by who order by who',
    )
    expect(rows).toEqual([{ who: 'a', n: 3 }])
  })

  it('rolls back the transaction of a client that vanishes', async () => {
    await pool.query('create table vanish (id int)')
    const client = new Client(connectionString)
    client.on('error', () => {})
    await client.connect()
    await client.query('BEGIN')
    await client.query('insert into vanish values (1)')
    // Drop the WebSocket without Terminate, as a crashed worker would.
    ;(
      client as unknown as { connection: { stream: { destroy(): void } } }
    ).connection.stream.destroy()
    const started = performance.now()
    const { rows } = await pool.query('select count(*)::int as n from vanish')
    expect(rows[0].n).toBe(0)
    expect(performance.now() - started).toBeLessThan(5_000)
    await pool.query('insert into vanish values (2)')
    expect((await pool.query('select count(*)::int as n from vanish')).rows[0].n).toBe(1)
  })

  it('reports SQLSTATE codes', async () => {
    await pool.query('create table uniq (id int primary key)')
    await pool.query('insert into uniq values (1)')
    await expect(pool.query('insert into uniq values (1)')).rejects.toMatchObject({
      code: '23505',
      constraint: 'uniq_pkey',
    })
    await expect(pool.query('selec 1')).rejects.toMatchObject({ code: '42601' })
    await expect(pool.query('select * from no_such_table')).rejects.toMatchObject({
      code: '42P01',
    })
    expect((await pool.query('select 2 as n')).rows).toEqual([{ n: 2 }])
  })
})

describe('neon() over HTTP', () => {
  it('runs tagged-template and parameterised queries', async () => {
    const sql = neon(connectionString)
    expect(await sql`select ${5}::int as five, ${'a'} || 'b' as ab`).toEqual([
      { five: 5, ab: 'ab' },
    ])
    expect(await sql.query('select $1::int * 2 as n', [21])).toEqual([{ n: 42 }])
  })

  it('supports array mode and full results', async () => {
    const sql = neon(connectionString, { arrayMode: true, fullResults: true })
    const result = await sql`select 1::int as a, 'x'::text as b union all select 2, 'y'`
    expect(result.rows).toEqual([
      [1, 'x'],
      [2, 'y'],
    ])
    expect(result.command).toBe('SELECT')
    expect(result.rowCount).toBe(2)
    expect(result.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ['a', 23],
      ['b', 25],
    ])
    const plain = neon(connectionString, { fullResults: true })
    await plain`create table full_demo (id int)`
    const insert = await plain`insert into full_demo values (1), (2), (3)`
    expect(insert.command).toBe('INSERT')
    expect(insert.rowCount).toBe(3)
  })

  it('runs transaction([...]) as one transaction', async () => {
    const sql = neon(connectionString)
    await sql`create table batch_demo (id int primary key)`
    const [, , count] = await sql.transaction([
      sql`insert into batch_demo values (1)`,
      sql`insert into batch_demo values (2)`,
      sql`select count(*)::int as n from batch_demo`,
    ])
    expect(count).toEqual([{ n: 2 }])
    await expect(
      sql.transaction([
        sql`insert into batch_demo values (3)`,
        sql`insert into batch_demo values (1)`,
      ]),
    ).rejects.toMatchObject({ code: '23505' })
    expect(await sql`select id from batch_demo order by id`).toEqual([{ id: 1 }, { id: 2 }])
    const [level] = await sql.transaction([sql`show transaction_isolation`], {
      isolationLevel: 'Serializable',
    })
    expect(level).toEqual([{ transaction_isolation: 'serializable' }])
    await expect(
      sql.transaction([sql`insert into batch_demo values (9)`], { readOnly: true }),
    ).rejects.toMatchObject({ code: '25006' })
  })

  it('never leaves the transaction of one request open for the next', async () => {
    // Each HTTP query is its own unit: a BEGIN sent alone must not swallow later writes into a
    // transaction that is rolled back when the pooled connection is dropped.
    const sql = neon(connectionString)
    await sql.query('BEGIN')
    await sql`create table after_lone_begin (id int)`
    await sql`insert into after_lone_begin values (1)`
    const started = performance.now()
    expect((await pool.query('select count(*)::int as n from after_lone_begin')).rows).toEqual([
      { n: 1 },
    ])
    // Not held up behind an idle open transaction on the single PGlite backend.
    expect(performance.now() - started).toBeLessThan(3_000)
  })

  it('reports SQLSTATE codes with Neon error fields', async () => {
    const sql = neon(connectionString)
    await sql`create table uniq_http (id int primary key)`
    await sql`insert into uniq_http values (1)`
    await expect(sql`insert into uniq_http values (1)`).rejects.toMatchObject({
      name: 'NeonDbError',
      code: '23505',
      constraint: 'uniq_http_pkey',
      table: 'uniq_http',
    })
    await expect(sql.query('selec 1')).rejects.toMatchObject({ code: '42601', position: '1' })
    await expect(sql`select * from missing_http`).rejects.toMatchObject({ code: '42P01' })
    await expectServing()
  })

  it('accepts any fetchEndpoint path under the emulator', async () => {
    const res = await post(
      JSON.stringify({ query: 'select $1::int as n', params: [7] }),
      {},
      '/any/path',
    )
    expect(res.status).toBe(200)
    expect(res.json.rows).toEqual([{ n: 7 }])
  })
})

describe('types round-trip', () => {
  const expected = {
    i4: 2147483647,
    i8: '9007199254740993',
    num: '12345.678901234567890',
    flag: true,
    txt: 'héllo "quoted" \\ text',
    doc: { a: [1, 2, { b: null }], s: 'x' },
    ts: new Date('2024-05-06T07:08:09.123Z'),
    id: '6b1f5d3e-8a7c-4f8e-9a51-2d3c4b5a6f70',
    bin: Buffer.from([0, 1, 2, 253, 254, 255]),
    tags: ['a', 'b c', 'd,e', '"q"'],
  }

  beforeAll(async () => {
    await pool.query(`create table typed (
      i4 int4, i8 int8, num numeric, flag bool, txt text, doc jsonb,
      ts timestamptz, id uuid, bin bytea, tags text[])`)
  })

  const check = (row: Record<string, unknown>) => {
    expect(row.i4).toBe(expected.i4)
    expect(row.i8).toBe(expected.i8)
    expect(row.num).toBe(expected.num)
    expect(row.flag).toBe(true)
    expect(row.txt).toBe(expected.txt)
    expect(row.doc).toEqual(expected.doc)
    expect((row.ts as Date).toISOString()).toBe(expected.ts.toISOString())
    expect(row.id).toBe(expected.id)
    expect(Buffer.from(row.bin as Uint8Array).equals(expected.bin)).toBe(true)
    expect(row.tags).toEqual(expected.tags)
  }

  const values = () => [
    expected.i4,
    expected.i8,
    expected.num,
    expected.flag,
    expected.txt,
    JSON.stringify(expected.doc),
    expected.ts,
    expected.id,
    expected.bin,
    expected.tags,
  ]
  const insert = 'insert into typed values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)'

  it('through Pool', async () => {
    await pool.query('delete from typed')
    await pool.query(insert, values())
    const { rows } = await pool.query('select * from typed')
    expect(rows).toHaveLength(1)
    check(rows[0])
  })

  it('through neon()', async () => {
    const sql = neon(connectionString)
    await sql`delete from typed`
    await sql.query(insert, values())
    const rows = await sql`select * from typed`
    expect(rows).toHaveLength(1)
    check(rows[0] as Record<string, unknown>)
  })

  it('typed JSON output when raw text output is off', async () => {
    const res = await post(
      JSON.stringify({
        query:
          'select true as b, 7::int4 as i, 8::int8 as big, 1.5::float8 as f, \'{"k":[1]}\'::jsonb as j, array[1,null,3]::int4[] as arr, \'{"x y",z}\'::text[] as words',
        params: [],
      }),
    )
    expect(res.status).toBe(200)
    expect(res.json.rowAsArray).toBe(false)
    expect(res.json.rows).toEqual([
      { b: true, i: 7, big: '8', f: 1.5, j: { k: [1] }, arr: [1, null, 3], words: ['x y', 'z'] },
    ])
    expect(res.json.fields[0]).toMatchObject({ name: 'b', dataTypeID: 16, format: 'text' })
  })
})

describe('pgvector', () => {
  it('creates the extension and orders by distance', async (ctx) => {
    const direct = env.emulator.directConnectionString
    const available = await vectorAvailable(direct)
    if (!available) {
      // Only a real server without pgvector gets here: the failure must be a clean SQL error.
      expect(env.backend).toBe('postgres')
      await expect(pool.query('create extension if not exists vector')).rejects.toMatchObject({
        code: expect.any(String),
      })
      ctx.annotate('pgvector is not installed on this PostgreSQL server', 'notice')
      return
    }
    await pool.query('create extension if not exists vector')
    await pool.query('create table docs (id int primary key, embedding vector(3))')
    await pool.query('insert into docs values ($1, $2), ($3, $4), ($5, $6)', [
      1,
      '[1,0,0]',
      2,
      '[0,1,0]',
      3,
      '[0.9,0.1,0]',
    ])
    const near = await pool.query(
      'select id, embedding::text as e from docs order by embedding <-> $1 limit 2',
      ['[1,0,0]'],
    )
    expect(near.rows).toEqual([
      { id: 1, e: '[1,0,0]' },
      { id: 3, e: '[0.9,0.1,0]' },
    ])
    const sql = neon(connectionString)
    const cosine = await sql`select id from docs order by embedding <=> ${'[0,1,0]'} limit 1`
    expect(cosine).toEqual([{ id: 2 }])
  })
})

describe('bad input to /sql', () => {
  it('rejects a missing Neon-Connection-String', async () => {
    const res = await fetch(`${url}/sql`, {
      method: 'POST',
      body: JSON.stringify({ query: 'select 1', params: [] }),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ message: 'invalid header: neon-connection-string' })
    await expectServing()
  })

  it('rejects an invalid connection string', async () => {
    for (const [value, message] of [
      ['not a url', 'invalid connection string: not a valid URL'],
      ['mysql://u:p@h/db', 'incorrect scheme'],
      ['postgres://u:p@h', 'missing database name'],
    ]) {
      const res = await post(JSON.stringify({ query: 'select 1' }), {
        'Neon-Connection-String': value as string,
      })
      expect(res.status).toBe(400)
      expect(res.json.message).toBe(message)
      expect(JSON.stringify(res.json)).not.toContain(':p@')
    }
    await expectServing()
  })

  it('rejects malformed JSON', async () => {
    const res = await post('{"query": "select 1",')
    expect(res.status).toBe(400)
    expect(res.json.message).toMatch(/^could not parse the HTTP request body: /)
    expect(res.json.code).toBe('')
    await expectServing()
  })

  it('rejects wrong shapes', async () => {
    for (const body of [
      { query: 'select $1', params: 'not-an-array' },
      { query: 42 },
      { queries: 'nope' },
      [1, 2],
      { queries: [{ query: 'select 1' }, { params: [] }] },
    ]) {
      const res = await post(JSON.stringify(body))
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.json.message).toMatch(/^could not parse the HTTP request body: /)
    }
    await expectServing()
  })

  it('rejects an unknown isolation level', async () => {
    const res = await post(JSON.stringify({ queries: [{ query: 'select 1' }] }), {
      'Neon-Batch-Isolation-Level': 'Chaos',
    })
    expect(res.status).toBe(400)
    expect(res.json.message).toBe('invalid isolation level')
    await expectServing()
  })

  it('answers unknown SQL with the Postgres error', async () => {
    const res = await post(JSON.stringify({ query: 'frobnicate the database', params: [] }))
    expect(res.status).toBe(400)
    expect(res.json).toMatchObject({ code: '42601', severity: 'ERROR', position: '1' })
    expect(res.json.message).toContain('syntax error')
    await expectServing()
  })

  it('converts JSON parameters like Neon does', async () => {
    const res = await post(
      JSON.stringify({
        query: 'select $1::int as n, $2::bool as b, $3::jsonb as j, $4::int[] as a, $5::text as t',
        params: [5, true, { k: 1 }, [1, 2], null],
      }),
      { 'Neon-Raw-Text-Output': 'true', 'Neon-Array-Mode': 'true' },
    )
    expect(res.status).toBe(200)
    expect(res.json.rows).toEqual([['5', 't', '{"k": 1}', '{1,2}', null]])
    expect(res.json.rowAsArray).toBe(true)
  })

  it('refuses bodies over 10 MiB with 413', async () => {
    const res = await post(JSON.stringify({ query: 'select 1', params: ['x'.repeat(11 << 20)] }))
    expect(res.status).toBe(413)
    expect(res.json.message).toBe('request is too large (max is 10485760 bytes)')
    await expectServing()
  })

  it('answers other methods with 400', async () => {
    const res = await fetch(`${url}/sql`)
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ message: 'query is not supported' })
  })
})

describe('bad input on the WebSocket', () => {
  it('closes a connection that sends garbage and keeps serving others', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v2?address=localhost:5432`)
    const received: Buffer[] = []
    ws.on('message', (data: Buffer) => received.push(data))
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    const closed = new Promise((resolve) => ws.once('close', resolve))
    ws.send(Buffer.from('GET / HTTP/1.1\r\nHost: nonsense\r\n\r\n'))
    await closed
    // Whatever the backend said, it was an ErrorResponse ('E'), not silence or a crash.
    if (received.length > 0) expect(String.fromCharCode(received[0]?.[0] ?? 0)).toBe('E')
    await expectServing()
    expect((await pool.query('select 3 as n')).rows).toEqual([{ n: 3 }])
  })
})
