import { type Api, ApiError, readAnswer, withSignal } from './client'

/** Overall state of the edge API and what it depends on. */
export type OverallStatus = 'ok' | 'degraded' | 'down'
export type CheckStatus = 'ok' | 'error' | 'not_configured'

export interface HealthCheck {
  status: CheckStatus
  latency_ms?: number
  error?: string
}

/** `GET /health`: 200 when ok, 503 when degraded or down; both carry this body. */
export interface HealthReport {
  status: OverallStatus
  checks: Record<string, HealthCheck>
  version: string
}

export interface HealthResult {
  report: HealthReport
  httpStatus: number
  checkedAt: Date
}

const OVERALL: readonly string[] = ['ok', 'degraded', 'down']
const CHECK: readonly string[] = ['ok', 'error', 'not_configured']

/** Fetches `/health`, accepting the 503 answer and checking the body's shape. */
export async function fetchHealth(
  client: Api,
  options: { signal?: AbortSignal } = {},
): Promise<HealthResult> {
  const res = await readAnswer(
    await client.sdk.health.$get(undefined, withSignal(options.signal)),
    {
      acceptStatus: [503],
    },
  )
  const report = parseHealthReport(res.data)
  if (!report) {
    throw new ApiError({
      status: res.status,
      type: 'invalid_response',
      code: 'invalid_health_report',
      message: 'The API answered /health with a body this app does not understand.',
      requestId: res.requestId,
      url: client.url('/health'),
    })
  }
  return { report, httpStatus: res.status, checkedAt: new Date() }
}

/** Returns a clean report, or null when the body is not a health report. */
export function parseHealthReport(body: unknown): HealthReport | null {
  if (!isRecord(body) || typeof body.status !== 'string' || !OVERALL.includes(body.status)) {
    return null
  }
  const checks: Record<string, HealthCheck> = {}
  if (body.checks !== undefined) {
    if (!isRecord(body.checks)) return null
    for (const [name, raw] of Object.entries(body.checks)) {
      if (!isRecord(raw) || typeof raw.status !== 'string' || !CHECK.includes(raw.status)) {
        return null
      }
      const check: HealthCheck = { status: raw.status as CheckStatus }
      if (typeof raw.latency_ms === 'number' && Number.isFinite(raw.latency_ms)) {
        check.latency_ms = raw.latency_ms
      }
      if (typeof raw.error === 'string') check.error = raw.error
      checks[name] = check
    }
  }
  return {
    status: body.status as OverallStatus,
    checks,
    version: typeof body.version === 'string' ? body.version : 'unknown',
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
