/**
 * Upstash Workflow runs, the part of QStash that `@upstash/workflow` talks to.
 *
 * The protocol, as the SDK (1.3.x) speaks it:
 * - A trigger is a publish with `Upstash-Workflow-Init: true` and `Upstash-Workflow-RunId`: the
 *   run is created with the body as its initial payload (a second trigger with the same id is
 *   answered `deduplicated`). Its settings (retries, retry delay, timeout, flow control, failure
 *   callback, forwarded headers) apply to every later step of the run (`WF_TriggerOnConfig`).
 * - Each delivery of a run's message carries the run's history up to and including that
 *   message's own entry, as JSON `[{messageId, body: base64, callType}]`: the initial payload
 *   first, then each step's JSON. Headers `Upstash-Workflow-RunId`, `-Url`, `-CreatedAt`.
 * - The SDK replays the history, runs the first step it has no result for and publishes that
 *   result (`Upstash-Workflow-Init: false`): it is appended to the history and delivered as the
 *   next call. A sleep is the same publish with `Upstash-Delay` / `Upstash-Not-Before`; parallel
 *   steps are several plan entries published at once, each delivered with its own prefix.
 * - A step that keeps failing is retried as a message (earlier steps are memoised in the history,
 *   so they do not run again); once it is dead-lettered the run is `RUN_FAILED` and the trigger's
 *   failure callback gets QStash's callback body plus `workflowRunId`, `workflowCreatedAt` and the
 *   initial payload as `sourceBody`.
 * - `DELETE /v2/workflows/runs/:id?cancel=false` with the route's result ends the run
 *   (`RUN_SUCCESS`); `?cancel=true` and `DELETE /v2/workflows/runs?…` cancel it. A step published
 *   to a run that has ended is refused with 400, which the SDK takes as "the run is over".
 *
 * Not emulated: `context.call`, `waitForEvent`/`notify`, `invoke`, webhooks, the workflow DLQ API.
 */

import type { DeliveryHooks, Engine } from './engine'
import { newId, type PublishContext, type PublishResult } from './engine'
import { badRequest, notFound, type QStashError } from './errors'
import type {
  DlqRecord,
  HeaderPairs,
  MessageRecord,
  WorkflowRunRecord,
  WorkflowRunState,
  WorkflowStepEntry,
} from './model'
import type { PublishSpec } from './publish-request'
import type { Store } from './store'

/** Finished runs kept for `GET /v2/workflows/events`; the oldest are dropped past this. */
const MAX_FINISHED_RUNS = 10_000
const RUN_ID = /^[A-Za-z0-9._:-]{1,200}$/

/** What a publish says about the workflow run it belongs to. */
export interface WorkflowPublish {
  runId: string
  /** a trigger (`Upstash-Workflow-Init: true`), else a step of an existing run */
  init: boolean
  callType: WorkflowStepEntry['callType']
  /** settings the publish named itself; the others come from the run's trigger */
  explicit: { retries: boolean; retryDelay: boolean; timeout: boolean }
}

/**
 * Reads the workflow headers of a publish; undefined for a plain message. A `context.call`
 * request (`Upstash-Workflow-CallType: toCallback`) goes to a third party and is not a step.
 */
export function parseWorkflowPublish(headers: Headers): WorkflowPublish | undefined {
  const runId = headers.get('upstash-workflow-runid')
  const init = headers.get('upstash-workflow-init')
  if (runId === null || init === null) return undefined
  const callType = headers.get('upstash-workflow-calltype') ?? 'step'
  if (callType === 'toCallback') return undefined
  if (!RUN_ID.test(runId)) {
    throw badRequest(`invalid Upstash-Workflow-RunId header: ${JSON.stringify(runId.slice(0, 80))}`)
  }
  if (init !== 'true' && init !== 'false') {
    throw badRequest('invalid Upstash-Workflow-Init header: must be true or false')
  }
  if (callType !== 'step' && callType !== 'fromCallback') {
    throw badRequest(`invalid Upstash-Workflow-CallType header: ${JSON.stringify(callType)}`)
  }
  return {
    runId,
    init: init === 'true',
    callType,
    explicit: {
      retries: headers.has('upstash-retries'),
      retryDelay: headers.has('upstash-retry-delay'),
      timeout: headers.has('upstash-timeout'),
    },
  }
}

export interface RunFilter {
  workflowRunIds?: string[]
  workflowUrl?: string[]
  /** `workflowUrl` is a prefix unless this is set */
  workflowUrlExactMatch?: boolean
  state?: string[]
  label?: string[]
  fromDate?: number
  toDate?: number
  workflowCreatedAt?: number
  messageId?: string
}

/** Merges forwarded headers: `override`'s names replace `base`'s (case-insensitive). */
function mergeHeaders(base: HeaderPairs, override: HeaderPairs): HeaderPairs {
  const names = new Set(override.map(([name]) => name.toLowerCase()))
  return [...base.filter(([name]) => !names.has(name.toLowerCase())), ...override]
}

function decodeBase64Text(base64: string): string {
  return Buffer.from(base64, 'base64').toString('utf8')
}

export class WorkflowRuns implements DeliveryHooks {
  constructor(
    private readonly store: Store,
    private readonly engine: Engine,
  ) {}

  /** Refuses a step for a run that does not exist or has ended (before anything is published). */
  check(wf: WorkflowPublish): void {
    if (!wf.init) this.activeRun(wf.runId)
  }

  publish(spec: PublishSpec, wf: WorkflowPublish, ctx: PublishContext): PublishResult {
    const now = Date.now()
    const messageId = newId('msg_')
    if (wf.init) {
      const existing = this.store.workflowRuns.get(wf.runId)
      if (existing) {
        return { messageId: existing.steps[0]?.messageId ?? messageId, deduplicated: true }
      }
      const run: WorkflowRunRecord = {
        workflowRunId: wf.runId,
        workflowUrl: spec.destination,
        state: 'RUN_STARTED',
        createdAt: now,
        ...(spec.labels && { labels: spec.labels }),
        config: {
          retries: spec.retries,
          ...(spec.retryDelay !== undefined && { retryDelay: spec.retryDelay }),
          ...(spec.timeoutMs !== undefined && { timeoutMs: spec.timeoutMs }),
          ...(spec.flowControl && { flowControl: spec.flowControl }),
          ...(spec.failureCallback && {
            failureCallback: spec.failureCallback,
            failureCallbackConfig: spec.failureCallbackConfig,
          }),
          forward: spec.forward,
        },
        steps: [{ messageId, callType: 'step', body: spec.body, createdAt: now }],
      }
      // recorded before the message exists: its first delivery reads the history
      this.store.putWorkflowRun(run)
      return this.engine.publish(spec, { ...ctx, messageId, workflowRunId: run.workflowRunId })
    }
    const run = this.activeRun(wf.runId)
    const config = run.config
    const stepSpec: PublishSpec = {
      ...spec,
      retries: wf.explicit.retries ? spec.retries : config.retries,
      forward: mergeHeaders(config.forward, spec.forward),
    }
    if (!wf.explicit.retryDelay && config.retryDelay !== undefined) {
      stepSpec.retryDelay = config.retryDelay
    }
    if (!wf.explicit.timeout && config.timeoutMs !== undefined)
      stepSpec.timeoutMs = config.timeoutMs
    if (!spec.flowControl && config.flowControl) stepSpec.flowControl = config.flowControl
    if (!spec.failureCallback && config.failureCallback) {
      stepSpec.failureCallback = config.failureCallback
      stepSpec.failureCallbackConfig = config.failureCallbackConfig
    }
    if (!spec.labels && run.labels) stepSpec.labels = run.labels
    this.store.appendWorkflowStep(run, {
      messageId,
      callType: wf.callType,
      body: spec.body,
      createdAt: now,
    })
    return this.engine.publish(stepSpec, { ...ctx, messageId, workflowRunId: run.workflowRunId })
  }

  // ---- delivery hooks ---------------------------------------------------------------------

  body(m: MessageRecord): Buffer | undefined {
    if (!m.workflowRunId) return undefined
    const run = this.store.workflowRuns.get(m.workflowRunId)
    const index = run?.steps.findIndex((s) => s.messageId === m.messageId) ?? -1
    if (!run || index === -1) return undefined
    const history = run.steps
      .slice(0, index + 1)
      .map(({ messageId, body, callType }) => ({ messageId, body, callType }))
    return Buffer.from(JSON.stringify(history))
  }

  headers(m: MessageRecord): Record<string, string> | undefined {
    const run = m.workflowRunId ? this.store.workflowRuns.get(m.workflowRunId) : undefined
    if (!run) return undefined
    return {
      'Upstash-Workflow-RunId': run.workflowRunId,
      'Upstash-Workflow-Url': run.workflowUrl,
      'Upstash-Workflow-CreatedAt': String(run.createdAt),
      ...(run.labels && { 'Upstash-Label': run.labels.join(',') }),
    }
  }

  callbackFields(source: MessageRecord): Record<string, unknown> | undefined {
    const run = source.workflowRunId ? this.store.workflowRuns.get(source.workflowRunId) : undefined
    if (!run) return undefined
    return {
      workflowRunId: run.workflowRunId,
      workflowUrl: run.workflowUrl,
      workflowCreatedAt: run.createdAt,
      // the SDK's failure function reads the run's initial payload from here
      sourceBody: run.steps[0]?.body ?? '',
    }
  }

  deadLettered(m: MessageRecord, dlq: DlqRecord): void {
    if (!m.workflowRunId || m.kind) return
    const run = this.store.workflowRuns.get(m.workflowRunId)
    if (run?.state === 'RUN_STARTED') this.finish(run, 'RUN_FAILED', { dlqId: dlq.dlqId })
  }

  // ---- run API ----------------------------------------------------------------------------

  /** `GET /v2/workflows/runs/:id`: the raw history of an active run (the SDK's lazy fetch). */
  history(id: string): WorkflowStepEntry[] {
    return this.activeRun(id, notFound).steps
  }

  /**
   * `DELETE /v2/workflows/runs/:id`: the SDK ends a run it finished (`cancel=false`, with the
   * route's result as body) or that called `context.cancel()` (`cancel=true`).
   */
  end(id: string, cancel: boolean, result: string): void {
    const run = this.activeRun(id)
    if (cancel) this.finish(run, 'RUN_CANCELED')
    else this.finish(run, 'RUN_SUCCESS', { response: result })
  }

  /** `DELETE /v2/workflows/runs?…`: cancels up to `count` active runs that match. */
  cancelMany(filter: RunFilter, count: number): number {
    let cancelled = 0
    for (const run of [...this.store.workflowRuns.values()]) {
      if (cancelled >= count) break
      if (run.state !== 'RUN_STARTED' || !this.matches(run, filter)) continue
      this.finish(run, 'RUN_CANCELED')
      cancelled++
    }
    return cancelled
  }

  /** `GET /v2/workflows/events?groupBy=workflowRunId`: runs newest first, with their steps. */
  logs(filter: RunFilter, cursor: string | undefined, count: number) {
    const all = [...this.store.workflowRuns.values()]
      .filter((run) => this.matches(run, filter))
      .sort((a, b) => b.createdAt - a.createdAt)
    const start = cursor ? Number(cursor) || 0 : 0
    const page = all.slice(start, start + count)
    const next = start + page.length
    return {
      runs: page.map((run) => this.runLog(run)),
      ...(next < all.length && { cursor: String(next) }),
    }
  }

  // ---- internals --------------------------------------------------------------------------

  private activeRun(
    id: string,
    ended: (message: string) => QStashError = badRequest,
  ): WorkflowRunRecord {
    const run = this.store.workflowRuns.get(id)
    if (!run) throw notFound(`workflow run ${id} not found`)
    if (run.state !== 'RUN_STARTED') {
      throw ended(`workflow run ${id} is not active: ${run.state}`)
    }
    return run
  }

  private finish(
    run: WorkflowRunRecord,
    state: WorkflowRunState,
    extra: { response?: string; dlqId?: string } = {},
  ): void {
    run.state = state
    run.completedAt = Date.now()
    if (extra.response !== undefined) run.response = extra.response
    if (extra.dlqId !== undefined) run.dlqId = extra.dlqId
    this.store.putWorkflowRun(run)
    // what is still pending of the run (parallel branches, a delayed step) never runs now; the
    // delivery that ended the run finishes normally, and the failure callback (kind set) goes out
    for (const m of [...this.store.messages.values()]) {
      if (m.workflowRunId !== run.workflowRunId || m.kind) continue
      if (!this.engine.isInFlight(m.messageId)) this.engine.cancel(m.messageId)
    }
    this.prune()
  }

  private prune(): void {
    let finished = 0
    for (const run of this.store.workflowRuns.values()) if (run.state !== 'RUN_STARTED') finished++
    if (finished <= MAX_FINISHED_RUNS) return
    for (const run of [...this.store.workflowRuns.values()]) {
      if (finished <= MAX_FINISHED_RUNS) break
      if (run.state === 'RUN_STARTED') continue
      this.store.deleteWorkflowRun(run.workflowRunId)
      finished--
    }
  }

  private matches(run: WorkflowRunRecord, f: RunFilter): boolean {
    if (f.workflowRunIds && !f.workflowRunIds.includes(run.workflowRunId)) return false
    if (f.workflowUrl) {
      const ok = f.workflowUrl.some((url) =>
        f.workflowUrlExactMatch ? run.workflowUrl === url : run.workflowUrl.startsWith(url),
      )
      if (!ok) return false
    }
    if (f.state && !f.state.includes(run.state)) return false
    if (f.label && !run.labels?.some((l) => f.label?.includes(l))) return false
    if (f.fromDate !== undefined && run.createdAt < f.fromDate) return false
    if (f.toDate !== undefined && run.createdAt > f.toDate) return false
    if (f.workflowCreatedAt !== undefined && run.createdAt !== f.workflowCreatedAt) return false
    if (f.messageId && !run.steps.some((s) => s.messageId === f.messageId)) return false
    return true
  }

  /** A run as `Client.logs` returns it (`WorkflowRunLog`), steps grouped as QStash does. */
  private runLog(run: WorkflowRunRecord): Record<string, unknown> {
    const groups: { type: 'sequential' | 'parallel' | 'next'; steps: unknown[] }[] = []
    const retries = run.config.retries
    run.steps.forEach((entry, i) => {
      const base = { callType: entry.callType, messageId: entry.messageId, retries }
      if (i === 0) {
        const out = decodeBase64Text(entry.body)
        groups.push({
          type: 'sequential',
          steps: [
            {
              ...base,
              stepId: 0,
              stepName: 'init',
              stepType: 'Initial',
              out,
              concurrent: 1,
              state: 'STEP_SUCCESS',
              createdAt: entry.createdAt,
              headers: {},
            },
          ],
        })
        return
      }
      let step: Record<string, unknown>
      try {
        step = JSON.parse(decodeBase64Text(entry.body)) as Record<string, unknown>
      } catch {
        return
      }
      if (step.stepId === 0) return // a parallel plan entry, not a result
      const concurrent = typeof step.concurrent === 'number' ? step.concurrent : 1
      let out: unknown = step.out
      if (typeof out === 'string') {
        try {
          out = JSON.parse(out)
        } catch {}
      }
      const log = {
        ...base,
        stepId: step.stepId,
        stepName: step.stepName,
        stepType: step.stepType,
        out,
        concurrent,
        state: 'STEP_SUCCESS',
        createdAt: entry.createdAt,
        headers: {},
        ...(step.sleepFor !== undefined && { sleepFor: step.sleepFor }),
        ...(step.sleepUntil !== undefined && { sleepUntil: step.sleepUntil }),
      }
      const last = groups[groups.length - 1]
      if (concurrent > 1 && last?.type === 'parallel' && last.steps.length < concurrent) {
        last.steps.push(log)
      } else {
        groups.push({ type: concurrent > 1 ? 'parallel' : 'sequential', steps: [log] })
      }
    })
    if (run.state === 'RUN_STARTED') {
      const pending = [...this.store.messages.values()].filter(
        (m) => m.workflowRunId === run.workflowRunId && !m.kind,
      )
      if (pending.length > 0) {
        groups.push({
          type: 'next',
          steps: pending.map((m) => ({
            messageId: m.messageId,
            state: m.retried > 0 ? 'STEP_RETRY' : 'STEP_PROGRESS',
            retries: m.maxRetries,
            ...(m.retryDelay !== undefined && { retryDelay: m.retryDelay }),
          })),
        })
      }
    }
    return {
      workflowRunId: run.workflowRunId,
      workflowUrl: run.workflowUrl,
      workflowState: run.state,
      workflowRunCreatedAt: run.createdAt,
      ...(run.completedAt !== undefined && { workflowRunCompletedAt: run.completedAt }),
      ...(run.response !== undefined && { workflowRunResponse: run.response }),
      ...(run.dlqId !== undefined && { dlqId: run.dlqId }),
      ...(run.labels && { label: run.labels[0], labels: run.labels }),
      steps: groups,
    }
  }
}
