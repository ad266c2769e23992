import { createSql } from '@synthstack/db'
import { Redis } from '@upstash/redis/cloudflare'
import type { Config } from '../config'
import { redact, secretValues } from '../redact'

export type CheckStatus = 'ok' | 'error' | 'not_configured'
export type HealthStatus = 'ok' | 'degraded' | 'down'

export interface CheckResult {
  status: CheckStatus
  latency_ms: number | null
  error?: string
  /** What answered, where that is useful (e.g. the pgvector version). */
  detail?: string
}

export const checkNames = ['postgres', 'redis', 'qstash', 'ml_node', 'vectors'] as const
export type CheckName = (typeof checkNames)[number]

export interface HealthReport {
  status: HealthStatus
  checks: Record<CheckName, CheckResult>
}

/** A probe returns an optional detail on success and throws on failure. */
type Probe = (signal: AbortSignal) => Promise<string | undefined>

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`)
  }
}

const messageOf = (error: unknown): string => {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : ''
    return `${error.message || error.name}${cause}`
  }
  return String(error)
}

/** Runs one probe under a deadline; never throws. */
export async function runCheck(
  probe: Probe,
  timeoutMs: number,
  secrets: readonly (string | undefined)[],
): Promise<CheckResult> {
  const controller = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort()
      reject(new TimeoutError(timeoutMs))
    }, timeoutMs)
  })
  const started = performance.now()
  try {
    const detail = await Promise.race([probe(controller.signal), deadline])
    const result: CheckResult = { status: 'ok', latency_ms: elapsed(started) }
    if (detail) result.detail = detail
    return result
  } catch (error) {
    return {
      status: 'error',
      latency_ms: elapsed(started),
      error: redact(messageOf(error), secrets),
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 100) / 100

const notConfigured = (): CheckResult => ({ status: 'not_configured', latency_ms: null })

const dbEnv = (config: Config) => ({
  DATABASE_URL: config.DATABASE_URL,
  NEON_EMULATOR_URL: config.NEON_EMULATOR_URL,
})

export const probes = {
  postgres:
    (config: Config): Probe =>
    async (signal) => {
      const sql = createSql(dbEnv(config))
      const rows = await sql.query('select 1 as ok', [], { fetchOptions: { signal } })
      if (rows[0]?.ok !== 1) throw new Error('unexpected reply to select 1')
      return undefined
    },

  pgvector:
    (config: Config): Probe =>
    async (signal) => {
      const sql = createSql(dbEnv(config))
      const rows = await sql.query(
        "select extversion from pg_extension where extname = 'vector'",
        [],
        { fetchOptions: { signal } },
      )
      const version = rows[0]?.extversion
      if (typeof version !== 'string') throw new Error('the vector extension is not installed')
      return `pgvector ${version}`
    },

  /**
   * `GET /collections` over plain fetch (Qdrant's REST API, `api-key` header): the official
   * client added ~25 KB to the Worker bundle for this one call (docs/limits.md, bundle budget).
   */
  qdrant:
    (config: Config): Probe =>
    async (signal) => {
      const headers: Record<string, string> = { Accept: 'application/json' }
      if (config.QDRANT_API_KEY) headers['api-key'] = config.QDRANT_API_KEY
      const res = await fetch(new URL('/collections', config.QDRANT_URL), { headers, signal })
      if (!res.ok) {
        await res.body?.cancel()
        throw new Error(`GET /collections answered HTTP ${res.status}`)
      }
      const body = (await res.json()) as { result?: { collections?: unknown } }
      const collections = body.result?.collections
      if (!Array.isArray(collections)) throw new Error('unexpected reply to GET /collections')
      return `qdrant, ${collections.length} collections`
    },

  redis:
    (config: Config): Probe =>
    async (signal) => {
      const redis = new Redis({
        url: config.UPSTASH_REDIS_REST_URL,
        token: config.UPSTASH_REDIS_REST_TOKEN,
        retry: false,
        enableTelemetry: false,
        enableAutoPipelining: false,
        signal,
      })
      const reply = await redis.ping()
      if (reply !== 'PONG') throw new Error('unexpected reply to PING')
      return undefined
    },

  qstash:
    (config: Config): Probe =>
    async (signal) => {
      // The SDK's queue().list() takes no signal: the same call by hand, so a slow QStash is
      // abandoned at the deadline instead of running on in the background.
      const res = await fetch(new URL('/v2/queues', config.QSTASH_URL), {
        headers: { authorization: `Bearer ${config.QSTASH_TOKEN}` },
        signal,
      })
      await res.body?.cancel()
      if (!res.ok) throw new Error(`QStash answered HTTP ${res.status}`)
      return undefined
    },

  mlNode:
    (config: Config): Probe =>
    async (signal) => {
      const url = new URL('/healthz', config.ML_NODE_URL)
      const headers: Record<string, string> = {}
      if (config.ML_NODE_API_KEY) headers.Authorization = `Bearer ${config.ML_NODE_API_KEY}`
      const res = await fetch(url, { headers, signal })
      await res.body?.cancel()
      if (!res.ok) throw new Error(`GET /healthz answered HTTP ${res.status}`)
      return undefined
    },
}

/** Checks every dependency in parallel, each under `HEALTH_CHECK_TIMEOUT_MS`. */
export async function checkHealth(config: Config): Promise<HealthReport> {
  const timeout = config.HEALTH_CHECK_TIMEOUT_MS
  const secrets = secretValues(config)
  const run = (probe: Probe) => runCheck(probe, timeout, secrets)
  const [postgres, redis, qstash, mlNode, vectors] = await Promise.all([
    run(probes.postgres(config)),
    run(probes.redis(config)),
    run(probes.qstash(config)),
    config.ML_NODE_URL ? run(probes.mlNode(config)) : notConfigured(),
    config.VECTOR_BACKEND === 'qdrant'
      ? config.QDRANT_URL
        ? run(probes.qdrant(config))
        : notConfigured()
      : run(probes.pgvector(config)),
  ])
  const checks: HealthReport['checks'] = { postgres, redis, qstash, ml_node: mlNode, vectors }
  return { status: overallStatus(Object.values(checks)), checks }
}

/** ok: every configured check passed; down: every configured check failed; else degraded. */
export function overallStatus(results: readonly CheckResult[]): HealthStatus {
  const configured = results.filter((r) => r.status !== 'not_configured')
  const failed = configured.filter((r) => r.status === 'error').length
  if (failed === 0) return 'ok'
  return failed === configured.length ? 'down' : 'degraded'
}
