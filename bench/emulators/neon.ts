// Neon emulator latency: 300 sequential one-row queries (`select $1::int as n`) after a warm-up,
// through neon() (SQL over HTTP) and a Pool (WebSocket), both from @neondatabase/serverless.
// Baseline: the same queries with `pg` straight to the database behind the emulator — the real
// PostgreSQL when NEON_EMULATOR_BACKEND=postgres, else the emulator's own PGlite wire-protocol
// listener (same single backend, no HTTP/WebSocket hop). The emulator runs in this process.
import { neon, neonConfig, Pool } from '@neondatabase/serverless'
import {
  configureNeonForEmulator,
  neonEmulatorOptionsFromEnv,
  startNeonEmulator,
} from '@synthstack/emulator-neon'
import pg from 'pg'

const QUERIES = 300
const WARMUP = 50

interface Stats {
  p50: number
  p99: number
  mean: number
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0
  return {
    p50: at(0.5),
    p99: at(0.99),
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  }
}

async function measure(run: (i: number) => Promise<number>): Promise<Stats> {
  for (let i = 0; i < WARMUP; i++) await run(i)
  const samples: number[] = []
  for (let i = 0; i < QUERIES; i++) {
    const start = performance.now()
    const n = await run(i)
    samples.push(performance.now() - start)
    if (n !== i) throw new Error(`wrong answer: expected ${i}, got ${n}`)
  }
  return stats(samples)
}

const fmt = (ms: number) => ms.toFixed(3)

export async function benchNeon(): Promise<string[]> {
  const options = neonEmulatorOptionsFromEnv()
  const emulator = await startNeonEmulator({ ...options, port: 0, dataDir: undefined })
  configureNeonForEmulator(neonConfig, emulator.url)
  const pool = new Pool({ connectionString: emulator.connectionString, max: 1 })
  const direct = new pg.Client({ connectionString: emulator.directConnectionString })
  try {
    const sql = neon(emulator.connectionString)
    const http = await measure(async (i) => {
      const rows = await sql.query('select $1::int as n', [i])
      return rows[0]?.n as number
    })
    const ws = await measure(async (i) => {
      const { rows } = await pool.query('select $1::int as n', [i])
      return rows[0].n as number
    })
    await direct.connect()
    const pgDirect = await measure(async (i) => {
      const { rows } = await direct.query('select $1::int as n', [i])
      return rows[0].n as number
    })

    const target = emulator.backend === 'postgres' ? 'PostgreSQL' : 'PGlite wire listener'
    console.log(`\nNeon emulator (backend ${emulator.backend}), ${QUERIES} sequential queries`)
    console.log('path                     p50 ms    p99 ms   mean ms')
    for (const [name, s] of [
      ['neon() HTTP /sql', http],
      ['Pool WebSocket /v2', ws],
      [`pg direct (${target})`, pgDirect],
    ] as const) {
      console.log(
        `${name.padEnd(24)}${fmt(s.p50).padStart(7)}${fmt(s.p99).padStart(10)}${fmt(s.mean).padStart(10)}`,
      )
    }
    return [
      `BENCH neon_http_p50_ms ${fmt(http.p50)} ms baseline=${fmt(pgDirect.p50)} target=report`,
      `BENCH neon_http_p99_ms ${fmt(http.p99)} ms baseline=${fmt(pgDirect.p99)} target=report`,
      `BENCH neon_ws_p50_ms ${fmt(ws.p50)} ms baseline=${fmt(pgDirect.p50)} target=report`,
      `BENCH neon_ws_p99_ms ${fmt(ws.p99)} ms baseline=${fmt(pgDirect.p99)} target=report`,
      `BENCH pg_direct_p50_ms ${fmt(pgDirect.p50)} ms baseline=${fmt(pgDirect.p50)} target=report`,
    ]
  } finally {
    await direct.end().catch(() => {})
    await pool.end()
    await emulator.close()
  }
}
