import type { CheckStatus, HealthCheck, OverallStatus } from '../api/health'

/** What each dependency the edge API checks does for the user, in display order. */
export const KNOWN_DEPENDENCIES: readonly { id: string; label: string; purpose: string }[] = [
  { id: 'postgres', label: 'PostgreSQL', purpose: 'Accounts, workspaces, jobs and documents' },
  { id: 'redis', label: 'Redis', purpose: 'Rate limits, caching and stream buffers' },
  { id: 'qstash', label: 'QStash', purpose: 'Background jobs, schedules and retries' },
  { id: 'ml-node', label: 'ML node', purpose: 'Embeddings, chat models and analysis' },
  { id: 'vectors', label: 'Vector search', purpose: 'Semantic search over your knowledge' },
]

export interface DependencyRow {
  id: string
  label: string
  purpose: string
  check: HealthCheck
}

/** Known dependencies first (in their order), then any others the API reports, by name. */
export function dependencyRows(checks: Record<string, HealthCheck>): DependencyRow[] {
  const known = KNOWN_DEPENDENCIES.filter((d) => checks[d.id]).map((d) => ({
    ...d,
    check: checks[d.id] as HealthCheck,
  }))
  const others = Object.keys(checks)
    .filter((id) => !KNOWN_DEPENDENCIES.some((d) => d.id === id))
    .sort()
    .map((id) => ({ id, label: id, purpose: '', check: checks[id] as HealthCheck }))
  return [...known, ...others]
}

export const OVERALL_TEXT: Record<OverallStatus, { title: string; detail: string }> = {
  ok: { title: 'All systems operational', detail: 'Every configured dependency is answering.' },
  degraded: {
    title: 'Degraded service',
    detail: 'Some dependencies are failing; parts of the app may not work.',
  },
  down: { title: 'Service down', detail: 'The API cannot serve requests right now.' },
}

export const CHECK_TEXT: Record<CheckStatus, string> = {
  ok: 'Operational',
  error: 'Error',
  not_configured: 'Not configured',
}

export function formatLatency(ms: number | undefined): string {
  if (ms === undefined) return '—'
  if (ms < 1) return '<1 ms'
  if (ms < 1000) return `${Math.round(ms)} ms`
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
}
