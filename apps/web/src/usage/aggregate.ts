import type { Client, SuccessBody } from '@synthstack/sdk'

/** `GET /v1/usage`: daily rows by model and key, and the monthly token budget. */
export type Usage = SuccessBody<Awaited<ReturnType<Client['v1']['usage']['$get']>>>
export type UsageDay = Usage['data'][number]
export type Budget = Usage['budget']

export interface Totals {
  requests: number
  errors: number
  tokens_in: number
  tokens_out: number
  tokens: number
  /** Mean latency over all requests (each day's average weighted by its requests). */
  avg_latency_ms: number
}

export interface Group extends Totals {
  /** Model name, or API key id (`null`: the web app's session calls). */
  id: string | null
}

const DAY = 86_400_000

const empty = (): Totals => ({
  requests: 0,
  errors: 0,
  tokens_in: 0,
  tokens_out: 0,
  tokens: 0,
  avg_latency_ms: 0,
})

function add(into: Totals & { latencySum?: number }, row: UsageDay): void {
  into.requests += row.requests
  into.errors += row.errors
  into.tokens_in += row.tokens_in
  into.tokens_out += row.tokens_out
  into.tokens += row.tokens_in + row.tokens_out
  into.latencySum = (into.latencySum ?? 0) + row.avg_latency_ms * row.requests
}

function finish<T extends Totals & { latencySum?: number }>(t: T): Omit<T, 'latencySum'> {
  const { latencySum = 0, ...rest } = t
  rest.avg_latency_ms = t.requests > 0 ? Math.round((latencySum / t.requests) * 10) / 10 : 0
  return rest
}

export function totals(rows: readonly UsageDay[]): Totals {
  const t = empty()
  for (const row of rows) add(t, row)
  return finish(t)
}

/** Sums by model or by key, largest token use first. */
export function groupBy(rows: readonly UsageDay[], by: 'model' | 'api_key_id'): Group[] {
  const groups = new Map<string | null, Totals>()
  for (const row of rows) {
    const id = row[by]
    let g = groups.get(id)
    if (!g) {
      g = empty()
      groups.set(id, g)
    }
    add(g, row)
  }
  return [...groups]
    .map(([id, t]) => ({ id, ...finish(t) }))
    .sort((a, b) => b.tokens - a.tokens || b.requests - a.requests)
}

export interface DayPoint {
  date: string
  requests: number
  tokens: number
}

/** One point per UTC day from `start` to `end` (YYYY-MM-DD, both included), zeros filled in. */
export function perDay(rows: readonly UsageDay[], start: string, end: string): DayPoint[] {
  const byDate = new Map<string, DayPoint>()
  for (const row of rows) {
    const p = byDate.get(row.date) ?? { date: row.date, requests: 0, tokens: 0 }
    p.requests += row.requests
    p.tokens += row.tokens_in + row.tokens_out
    byDate.set(row.date, p)
  }
  const out: DayPoint[] = []
  const last = Date.parse(`${end}T00:00:00Z`)
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= last && out.length < 400; t += DAY) {
    const date = new Date(t).toISOString().slice(0, 10)
    out.push(byDate.get(date) ?? { date, requests: 0, tokens: 0 })
  }
  return out
}

export interface BudgetView {
  /** 0–100 (capped), or null when there is no budget or the counter is unavailable. */
  percent: number | null
  level: 'ok' | 'warn' | 'over' | 'none'
  unlimited: boolean
}

export function budgetView(budget: Budget): BudgetView {
  if (budget.monthly_tokens === 0) return { percent: null, level: 'none', unlimited: true }
  if (budget.used_tokens === null) return { percent: null, level: 'none', unlimited: false }
  const ratio = budget.used_tokens / budget.monthly_tokens
  return {
    percent: Math.min(100, Math.round(ratio * 1000) / 10),
    level: ratio >= 1 ? 'over' : ratio >= 0.8 ? 'warn' : 'ok',
    unlimited: false,
  }
}

/** `[start, end]` for "the last n days" ending today (UTC), as the API counts days. */
export function lastDays(n: number, now = new Date()): { start_date: string; end_date: string } {
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()))
  const start = new Date(end.getTime() - (n - 1) * DAY)
  return { start_date: start.toISOString().slice(0, 10), end_date: end.toISOString().slice(0, 10) }
}
