/** The `/v2/workflows/*` routes `@upstash/workflow` calls (see workflows.ts for the protocol). */
import type { Engine } from './engine'
import { badRequest } from './errors'
import type { RequestContext, Router } from './router'
import type { RunFilter, WorkflowRuns } from './workflows'

const DEFAULT_CANCEL_COUNT = 100
const STATES = ['RUN_STARTED', 'RUN_SUCCESS', 'RUN_FAILED', 'RUN_CANCELED']

function list(c: RequestContext, name: string): string[] | undefined {
  const values = c
    .queries(name)
    ?.flatMap((v) => v.split(','))
    .filter((v) => v !== '')
  return values && values.length > 0 ? values : undefined
}

function time(c: RequestContext, name: string): number | undefined {
  const raw = c.query(name)
  if (raw === undefined || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isFinite(n)) throw badRequest(`invalid ${name}: must be unix milliseconds`)
  return n
}

function count(c: RequestContext, fallback: number, max: number): number {
  const raw = c.query('count')
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw badRequest('invalid count: must be a positive integer')
  return Math.min(n, max)
}

function readFilter(c: RequestContext): RunFilter {
  const filter: RunFilter = {}
  const ids = list(c, 'workflowRunIds') ?? list(c, 'workflowRunId')
  if (ids) filter.workflowRunIds = ids
  const urls = list(c, 'workflowUrl')
  if (urls) filter.workflowUrl = urls
  if (c.query('workflowUrlExactMatch') === 'true') filter.workflowUrlExactMatch = true
  const state = list(c, 'state')
  if (state) {
    const unknown = state.find((s) => !STATES.includes(s))
    if (unknown) throw badRequest(`invalid state: ${JSON.stringify(unknown)}`)
    filter.state = state
  }
  const label = list(c, 'label')
  if (label) filter.label = label
  const from = time(c, 'fromDate')
  if (from !== undefined) filter.fromDate = from
  const to = time(c, 'toDate')
  if (to !== undefined) filter.toDate = to
  const createdAt = time(c, 'workflowCreatedAt')
  if (createdAt !== undefined) filter.workflowCreatedAt = createdAt
  const messageId = c.query('messageId')
  if (messageId) filter.messageId = messageId
  return filter
}

export function registerWorkflowRoutes(app: Router, engine: Engine, runs: WorkflowRuns): void {
  app.get('/v2/workflows/runs/:id', (c) => c.json(runs.history(c.param('id'))))

  app.delete('/v2/workflows/runs/:id', async (c) => {
    const cancel = c.query('cancel') === 'true'
    runs.end(c.param('id'), cancel, await c.text())
    await engine.commit()
    return c.empty(200)
  })

  app.delete('/v2/workflows/runs', async (c) => {
    const cancelled = runs.cancelMany(readFilter(c), count(c, DEFAULT_CANCEL_COUNT, 1000))
    await engine.commit()
    return c.json({ cancelled })
  })

  for (const path of ['/v2/workflows/events', '/v2/workflows/logs']) {
    app.get(path, (c) => c.json(runs.logs(readFilter(c), c.query('cursor'), count(c, 10, 100))))
  }
}
