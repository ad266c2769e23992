/**
 * The delivery engine: timing, queues, concurrent HTTP deliveries, retries, callbacks, DLQ,
 * schedules and the event log. State lives in the Store; this class owns the timers.
 *
 * - Due times sit in a min-heap behind one timer. Due messages go to the global ready list or
 *   to their lane (a queue, or a flow-control key with parallelism).
 * - Up to `maxConcurrency` deliveries run at once across all messages.
 * - A queue message keeps its queue slot until it is delivered or dead-lettered, so a queue with
 *   parallelism 1 is strictly FIFO even across retries. A flow-control slot is held per attempt.
 * - Every wait (delay, not-before, backoff, schedule interval, dedup window) is multiplied by
 *   `timeScale`; HTTP timeouts and signature lifetimes stay in real time.
 */
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import { Cron } from 'croner'
import { Deque, MinHeap } from './collections'
import type { ResolvedOptions } from './config'
import { compileRetryDelay, defaultBackoffMs } from './duration'
import { badRequest, notFound } from './errors'
import {
  type CallbackConfig,
  type DlqRecord,
  headersToRecord,
  type LogEvent,
  type LogState,
  type MessageRecord,
  type QueueRecord,
  type ScheduleRecord,
} from './model'
import type { PublishSpec } from './publish-request'
import type { Signer } from './signing'
import type { Store } from './store'

const DEDUP_WINDOW_MS = 10 * 60 * 1000
const MAX_RESPONSE_BYTES = 1024 * 1024
const MAX_EVENTS = 10_000
const MAX_TIMER_MS = 2 ** 31 - 1
const SCHEDULE_STATES_KEPT = 10

interface Lane {
  kind: 'queue' | 'flow'
  name: string
  parallelism: number
  paused: boolean
  active: number
  fifo: Deque<string>
  /** queue messages that keep their slot and are due for a retry */
  resume: Deque<string>
}

type AttemptResult =
  | { kind: 'response'; status: number; headers: Record<string, string[]>; body: Buffer }
  | { kind: 'error'; error: string }
  | { kind: 'aborted' }

export interface PublishContext {
  queueName?: string
  scheduleId?: string
  callerIp: string
  kind?: MessageRecord['kind']
  /** an id chosen by the caller (workflow steps record it in the run before delivery starts) */
  messageId?: string
  workflowRunId?: string
}

/**
 * What another part of the emulator adds to deliveries (Upstash Workflow: the run's history as
 * the body, its headers, the run's state when a step is dead-lettered).
 */
export interface DeliveryHooks {
  /** The body to deliver instead of the stored one, if any. */
  body(m: MessageRecord): Buffer | undefined
  /** Extra headers for the delivery. */
  headers(m: MessageRecord): Record<string, string> | undefined
  /** Extra fields for the (failure) callback body about `source`. */
  callbackFields(source: MessageRecord): Record<string, unknown> | undefined
  /** `m` went to the DLQ (retries exhausted or non-retryable). */
  deadLettered(m: MessageRecord, dlq: DlqRecord): void
}

export interface PublishResult {
  messageId: string
  deduplicated?: boolean
}

export type Filter = Map<string, string[]>

const ID_CHARS = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

export function newId(prefix: string, length = 26): string {
  const bytes = randomBytes(length)
  let out = prefix
  for (const b of bytes) out += ID_CHARS[b % ID_CHARS.length]
  return out
}

function parseCron(expression: string): Cron {
  let pattern = expression.trim()
  let timezone: string | undefined
  const tz = /^CRON_TZ=(\S+)\s+(.*)$/.exec(pattern)
  if (tz) {
    timezone = tz[1]
    pattern = tz[2] as string
  }
  if (pattern.split(/\s+/).length !== 5) {
    throw badRequest(`invalid cron expression: ${JSON.stringify(expression.slice(0, 100))}`)
  }
  try {
    return new Cron(pattern, { paused: true, mode: '5-part', ...(timezone && { timezone }) })
  } catch (error) {
    throw badRequest(`invalid cron expression: ${(error as Error).message}`)
  }
}

export class Engine {
  private readonly heap = new MinHeap<{ due: number; order: number; id: string; gen: number }>()
  private readonly gens = new Map<string, number>()
  private readonly ready = new Deque<string>()
  private readonly lanes = new Map<string, Lane>()
  private readonly inflight = new Map<string, AbortController>()
  private readonly inflightDone = new Set<Promise<void>>()
  private readonly retryDelays = new Map<string, (retried: number) => number>()
  private readonly scheduleTimers = new Map<string, NodeJS.Timeout>()
  private readonly scheduleClocks = new Map<
    string,
    { real: number; virtual: number; lastVirtual: number; cron: Cron }
  >()
  private readonly events: (LogEvent & { seq: number })[] = []
  private readonly httpAgent: http.Agent
  private readonly httpsAgent: https.Agent
  private eventSeq = 0
  private messageSeq = 0
  private dlqSeq = 0
  private heapOrder = 0
  private rr = 0
  private active = 0
  private timer: NodeJS.Timeout | undefined
  private timerDue = Number.POSITIVE_INFINITY
  private sweepTimer: NodeJS.Timeout | undefined
  private stopping = false
  private hooks: DeliveryHooks | undefined

  constructor(
    private readonly store: Store,
    private readonly options: ResolvedOptions,
    private readonly signer: Signer,
  ) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxConcurrency }
    this.httpAgent = new http.Agent(agentOptions)
    this.httpsAgent = new https.Agent(agentOptions)
  }

  useHooks(hooks: DeliveryHooks): void {
    this.hooks = hooks
  }

  /** Resumes whatever the store loaded: pending messages, held queue slots, schedules. */
  start(): void {
    const pending = [...this.store.messages.values()].sort((a, b) => a.seq - b.seq)
    for (const m of pending) this.messageSeq = Math.max(this.messageSeq, m.seq)
    for (const d of this.store.dlq.values()) {
      this.dlqSeq = Math.max(this.dlqSeq, Number(d.dlqId.split('-')[1] ?? 0))
    }
    for (const m of pending) {
      if (m.holdsSlot) {
        const lane = this.laneFor(m)
        if (lane?.kind === 'queue') lane.active++
        else m.holdsSlot = undefined
      }
    }
    for (const m of pending) this.schedule(m)
    const now = Date.now()
    for (const s of this.store.schedules.values()) {
      if (s.isPaused) continue
      if (s.nextScheduleTime !== undefined && s.nextScheduleTime <= now)
        this.fireSchedule(s.scheduleId)
      else this.armSchedule(s)
    }
    this.sweepTimer = setInterval(() => this.store.pruneDedup(Date.now()), 60_000)
    this.sweepTimer.unref()
  }

  /**
   * Stops timers, lets in-flight deliveries finish for up to `graceMs`, then aborts the rest
   * (their attempt is not counted, so they are delivered again after a restart).
   */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true
    if (this.timer) clearTimeout(this.timer)
    if (this.sweepTimer) clearInterval(this.sweepTimer)
    for (const t of this.scheduleTimers.values()) clearTimeout(t)
    this.scheduleTimers.clear()
    const all = Promise.all([...this.inflightDone])
    let graceTimer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => {
      graceTimer = setTimeout(resolve, graceMs)
    })
    await Promise.race([all, grace])
    clearTimeout(graceTimer)
    for (const controller of this.inflight.values()) controller.abort()
    await all
    this.httpAgent.destroy()
    this.httpsAgent.destroy()
  }

  private scaled(ms: number): number {
    return ms * this.options.timeScale
  }

  // ---- publishing -------------------------------------------------------------------------

  publish(spec: PublishSpec, ctx: PublishContext): PublishResult {
    const now = Date.now()
    if (spec.dedupKey) {
      const seen = this.store.dedup.get(spec.dedupKey)
      if (seen && seen.expiresAt > now) return { messageId: seen.messageId, deduplicated: true }
    }
    if (ctx.queueName && !this.store.queues.has(ctx.queueName)) {
      this.store.putQueue({
        name: ctx.queueName,
        parallelism: 1,
        paused: false,
        createdAt: now,
        updatedAt: now,
      })
    }
    let notBefore = now + this.scaled(spec.delayMs ?? 0)
    if (spec.notBefore !== undefined) {
      notBefore = spec.notBefore > now ? now + this.scaled(spec.notBefore - now) : now
    }
    const message: MessageRecord = {
      messageId: ctx.messageId ?? newId('msg_'),
      seq: ++this.messageSeq,
      url: spec.destination,
      method: spec.method,
      header: spec.forward,
      body: spec.body,
      createdAt: now,
      notBefore: Math.round(notBefore),
      retried: 0,
      maxRetries: spec.retries,
      ...(spec.retryDelay !== undefined && { retryDelay: spec.retryDelay }),
      ...(spec.timeoutMs !== undefined && { timeoutMs: spec.timeoutMs }),
      ...(spec.callback && { callback: spec.callback, callbackConfig: spec.callbackConfig }),
      ...(spec.failureCallback && {
        failureCallback: spec.failureCallback,
        failureCallbackConfig: spec.failureCallbackConfig,
      }),
      ...(ctx.queueName && { queueName: ctx.queueName }),
      ...(ctx.scheduleId && { scheduleId: ctx.scheduleId }),
      ...(spec.flowControl && { flowControl: spec.flowControl }),
      ...(spec.labels && { labels: spec.labels }),
      ...(ctx.kind && { kind: ctx.kind }),
      ...(ctx.workflowRunId && { workflowRunId: ctx.workflowRunId }),
      callerIp: ctx.callerIp,
    }
    this.store.putMessage(message)
    if (spec.dedupKey) {
      this.store.putDedup(spec.dedupKey, {
        messageId: message.messageId,
        expiresAt: now + this.scaled(DEDUP_WINDOW_MS),
      })
    }
    this.event(message, 'CREATED')
    this.schedule(message)
    return { messageId: message.messageId }
  }

  commit(): Promise<void> {
    return this.store.commit()
  }

  // ---- timing and dispatch ----------------------------------------------------------------

  private schedule(m: MessageRecord): void {
    const gen = (this.gens.get(m.messageId) ?? 0) + 1
    this.gens.set(m.messageId, gen)
    if (m.notBefore <= Date.now()) {
      this.makeReady(m)
      return
    }
    this.heap.push({ due: m.notBefore, order: ++this.heapOrder, id: m.messageId, gen })
    this.armTimer()
  }

  private armTimer(): void {
    if (this.stopping) return
    const top = this.heap.peek()
    if (!top) return
    if (this.timer && top.due >= this.timerDue) return
    if (this.timer) clearTimeout(this.timer)
    this.timerDue = top.due
    this.timer = setTimeout(
      () => this.onTimer(),
      Math.min(MAX_TIMER_MS, Math.max(0, top.due - Date.now())),
    )
    this.timer.unref()
  }

  private onTimer(): void {
    this.timer = undefined
    this.timerDue = Number.POSITIVE_INFINITY
    const now = Date.now()
    for (let top = this.heap.peek(); top && top.due <= now; top = this.heap.peek()) {
      this.heap.pop()
      const m = this.store.messages.get(top.id)
      if (m && this.gens.get(top.id) === top.gen) this.makeReady(m)
    }
    this.armTimer()
  }

  private laneFor(m: MessageRecord): Lane | undefined {
    if (m.queueName) {
      const key = `q:${m.queueName}`
      let lane = this.lanes.get(key)
      if (!lane) {
        const q = this.store.queues.get(m.queueName)
        lane = this.newLane('queue', m.queueName, q?.parallelism ?? 1, q?.paused ?? false)
        this.lanes.set(key, lane)
      }
      return lane
    }
    const flow = m.flowControl
    if (flow?.parallelism) {
      const key = `f:${flow.key}`
      let lane = this.lanes.get(key)
      if (!lane) {
        lane = this.newLane('flow', flow.key, flow.parallelism, false)
        this.lanes.set(key, lane)
      }
      lane.parallelism = flow.parallelism
      return lane
    }
    return undefined
  }

  private newLane(kind: Lane['kind'], name: string, parallelism: number, paused: boolean): Lane {
    return { kind, name, parallelism, paused, active: 0, fifo: new Deque(), resume: new Deque() }
  }

  private makeReady(m: MessageRecord): void {
    const lane = this.laneFor(m)
    if (!lane) this.ready.push(m.messageId)
    else if (m.holdsSlot) lane.resume.push(m.messageId)
    else lane.fifo.push(m.messageId)
    this.pump()
  }

  private pump(): void {
    if (this.stopping) return
    while (this.active < this.options.maxConcurrency) {
      const next = this.next()
      if (!next) break
      this.startAttempt(next.message, next.lane)
    }
  }

  private take(id: string | undefined): MessageRecord | undefined {
    if (id === undefined || this.inflight.has(id)) return undefined
    return this.store.messages.get(id)
  }

  /** Round-robin over the global ready list and every lane with room. */
  private next(): { message: MessageRecord; lane?: Lane } | undefined {
    const lanes = [...this.lanes.values()]
    const n = lanes.length + 1
    for (let i = 0; i < n; i++) {
      const idx = (this.rr + i) % n
      const lane = lanes[idx]
      if (!lane) {
        while (this.ready.length > 0) {
          const message = this.take(this.ready.shift())
          if (message) {
            this.rr = idx + 1
            return { message }
          }
        }
        continue
      }
      if (lane.paused) continue
      while (lane.resume.length > 0) {
        const message = this.take(lane.resume.shift())
        if (message?.holdsSlot) {
          this.rr = idx + 1
          return { message, lane }
        }
      }
      while (lane.active < lane.parallelism && lane.fifo.length > 0) {
        const message = this.take(lane.fifo.shift())
        if (message) {
          lane.active++
          this.rr = idx + 1
          return { message, lane }
        }
      }
    }
    return undefined
  }

  private startAttempt(m: MessageRecord, lane: Lane | undefined): void {
    this.active++
    if (lane?.kind === 'queue') m.holdsSlot = true
    const controller = new AbortController()
    this.inflight.set(m.messageId, controller)
    this.event(m, 'ACTIVE')
    const done: Promise<void> = this.deliver(m, controller.signal)
      .then((result) => this.finish(m, lane, result))
      .catch((error: unknown) => {
        // never lose the message: treat an internal failure like a failed attempt
        this.finish(m, lane, {
          kind: 'error',
          error: `internal error: ${(error as Error).message}`,
        })
      })
      .finally(() => this.inflightDone.delete(done))
    this.inflightDone.add(done)
  }

  private async deliver(m: MessageRecord, signal: AbortSignal): Promise<AttemptResult> {
    const body = this.hooks?.body(m) ?? Buffer.from(m.body, 'base64')
    const url = new URL(m.url)
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of m.header) {
      const prev = headers[name]
      headers[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value]
    }
    headers['User-Agent'] = 'Upstash-QStash'
    headers['Upstash-Signature'] = this.signer.sign(m.url, body)
    headers['Upstash-Message-Id'] = m.messageId
    headers['Upstash-Retried'] = String(m.retried)
    headers['Upstash-Caller-Ip'] = m.callerIp
    if (m.scheduleId) headers['Upstash-Schedule-Id'] = m.scheduleId
    const extra = this.hooks?.headers(m)
    if (extra) Object.assign(headers, extra)
    if (body.length > 0 || !['GET', 'HEAD'].includes(m.method)) {
      headers['Content-Length'] = String(body.length)
    }
    if (signal.aborted) return { kind: 'aborted' }
    const timeoutMs = m.timeoutMs ?? this.options.defaultTimeoutMs
    return new Promise<AttemptResult>((resolve) => {
      let settled = false
      const settle = (result: AttemptResult) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        resolve(result)
      }
      const client = url.protocol === 'https:' ? https : http
      const req = client.request(url, {
        method: m.method,
        headers,
        agent: url.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
      })
      const timer = setTimeout(() => {
        req.destroy()
        settle({ kind: 'error', error: `request timed out after ${timeoutMs}ms` })
      }, timeoutMs)
      const onAbort = () => {
        req.destroy()
        settle({ kind: 'aborted' })
      }
      signal.addEventListener('abort', onAbort)
      req.on('error', (error) => settle({ kind: 'error', error: error.message }))
      req.on('response', (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_RESPONSE_BYTES) chunks.push(chunk)
          size += chunk.length
        })
        res.on('error', (error) => settle({ kind: 'error', error: error.message }))
        res.on('end', () => {
          const responseHeaders: Record<string, string[]> = {}
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = res.rawHeaders[i] as string
            const value = res.rawHeaders[i + 1] as string
            const list = responseHeaders[name]
            if (list) list.push(value)
            else responseHeaders[name] = [value]
          }
          const full = Buffer.concat(chunks)
          settle({
            kind: 'response',
            status: res.statusCode ?? 0,
            headers: responseHeaders,
            body: full.subarray(0, MAX_RESPONSE_BYTES),
          })
        })
      })
      req.end(body.length > 0 ? body : undefined)
    })
  }

  private retryDelayMs(m: MessageRecord): number {
    if (m.retryDelay === undefined) return defaultBackoffMs(m.retried + 1)
    let fn = this.retryDelays.get(m.retryDelay)
    if (!fn) {
      try {
        fn = compileRetryDelay(m.retryDelay)
      } catch {
        fn = (r) => defaultBackoffMs(r + 1)
      }
      this.retryDelays.set(m.retryDelay, fn)
    }
    return fn(m.retried)
  }

  private finish(m: MessageRecord, lane: Lane | undefined, result: AttemptResult): void {
    if (!this.inflight.delete(m.messageId)) return
    this.active--
    if (result.kind === 'aborted') return
    const current = this.store.messages.get(m.messageId)
    if (!current) {
      // cancelled while in flight
      if (lane) lane.active--
      this.pump()
      return
    }
    const now = Date.now()
    if (result.kind === 'response' && result.status >= 200 && result.status < 300) {
      this.store.deleteMessage(current.messageId)
      this.gens.delete(current.messageId)
      this.event(current, 'DELIVERED', { responseStatus: result.status })
      if (current.callback) this.sendCallback('callback', current, result)
      this.scheduleOutcome(current, 'SUCCESS')
      if (lane) lane.active--
      this.pump()
      return
    }
    const error =
      result.kind === 'response' ? `status ${result.status}` : (result as { error: string }).error
    this.event(current, 'ERROR', {
      error,
      ...(result.kind === 'response' && { responseStatus: result.status }),
    })
    if (current.callback && result.kind === 'response')
      this.sendCallback('callback', current, result)
    if (current.retried < current.maxRetries && !isNonRetryable(result)) {
      const delay = this.retryDelayMs(current)
      current.retried++
      current.notBefore = Math.round(now + this.scaled(delay))
      if (lane?.kind === 'flow') lane.active--
      this.store.putMessage(current)
      this.event(current, 'RETRY', { nextDeliveryTime: current.notBefore })
      this.schedule(current)
    } else {
      const dlq: DlqRecord = {
        ...current,
        holdsSlot: undefined,
        dlqId: `${now}-${++this.dlqSeq}`,
        failedAt: now,
        ...(result.kind === 'response' && {
          responseStatus: result.status,
          responseHeader: result.headers,
          responseBody: result.body.toString('base64'),
        }),
      }
      this.store.deleteMessage(current.messageId)
      this.store.putDlq(dlq)
      this.gens.delete(current.messageId)
      this.event(current, 'FAILED', { error })
      this.hooks?.deadLettered(current, dlq)
      if (current.failureCallback) this.sendCallback('failure-callback', dlq, result)
      this.scheduleOutcome(current, 'FAIL')
      if (lane) lane.active--
    }
    this.pump()
  }

  /** Publishes QStash's callback body to the (failure) callback URL as a new signed message. */
  private sendCallback(
    kind: 'callback' | 'failure-callback',
    source: MessageRecord & { dlqId?: string },
    result: AttemptResult,
  ): void {
    const url = kind === 'callback' ? source.callback : source.failureCallback
    const config: CallbackConfig = (kind === 'callback'
      ? source.callbackConfig
      : source.failureCallbackConfig) ?? { forward: [] }
    if (!url) return
    const response =
      result.kind === 'response'
        ? result
        : { status: 0, headers: {}, body: Buffer.from(result.kind === 'error' ? result.error : '') }
    const payload = {
      status: response.status,
      header: response.headers,
      body: response.body.toString('base64'),
      retried: source.retried,
      maxRetries: source.maxRetries,
      ...(source.dlqId && { dlqId: source.dlqId }),
      sourceMessageId: source.messageId,
      url: source.url,
      method: source.method,
      sourceHeader: headersToRecord(source.header),
      sourceBody: source.body,
      notBefore: source.notBefore,
      createdAt: source.createdAt,
      ...(source.scheduleId && { scheduleId: source.scheduleId }),
      ...(source.queueName && { queueName: source.queueName }),
      callerIP: source.callerIp,
      ...this.hooks?.callbackFields(source),
    }
    this.publish(
      {
        destination: url,
        method: config.method ?? 'POST',
        forward: [['Content-Type', 'application/json'], ...config.forward],
        body: Buffer.from(JSON.stringify(payload)).toString('base64'),
        retries: config.retries ?? source.maxRetries,
        ...((config.retryDelay ?? source.retryDelay) !== undefined && {
          retryDelay: config.retryDelay ?? source.retryDelay,
        }),
        ...(config.timeoutMs !== undefined && { timeoutMs: config.timeoutMs }),
        ...(config.delayMs !== undefined && { delayMs: config.delayMs }),
      },
      {
        callerIp: source.callerIp,
        kind,
        ...(source.workflowRunId && { workflowRunId: source.workflowRunId }),
      },
    )
  }

  private event(m: MessageRecord, state: LogState, extra: Partial<LogEvent> = {}): void {
    this.events.push({
      seq: ++this.eventSeq,
      time: Date.now(),
      state,
      messageId: m.messageId,
      url: m.url,
      ...(m.queueName && { queueName: m.queueName }),
      ...(m.scheduleId && { scheduleId: m.scheduleId }),
      ...(m.labels && { labels: m.labels, label: m.labels[0] }),
      ...extra,
    })
    if (this.events.length > MAX_EVENTS + 1000)
      this.events.splice(0, this.events.length - MAX_EVENTS)
  }

  // ---- messages ---------------------------------------------------------------------------

  getMessage(id: string): MessageRecord {
    const m = this.store.messages.get(id)
    if (!m) throw notFound('message not found')
    return m
  }

  /** Whether an attempt to deliver `id` is running right now. */
  isInFlight(id: string): boolean {
    return this.inflight.has(id)
  }

  /** Cancels one pending message; false when there is none with that id. */
  cancel(id: string): boolean {
    const m = this.store.messages.get(id)
    if (!m) return false
    this.store.deleteMessage(id)
    this.gens.delete(id)
    this.event(m, 'CANCELLED')
    if (!this.inflight.has(id) && m.holdsSlot) {
      const lane = this.laneFor(m)
      if (lane) lane.active--
      this.pump()
    }
    return true
  }

  listMessages(filter: Filter): MessageRecord[] {
    return [...this.store.messages.values()].filter((m) => matches(m, filter))
  }

  // ---- queues -----------------------------------------------------------------------------

  upsertQueue(name: string, parallelism: number, paused: boolean): void {
    const now = Date.now()
    const existing = this.store.queues.get(name)
    this.store.putQueue({
      name,
      parallelism,
      paused,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    })
    const lane = this.lanes.get(`q:${name}`)
    if (lane) {
      lane.parallelism = parallelism
      lane.paused = paused
    }
    this.pump()
  }

  listQueues(): QueueRecord[] {
    return [...this.store.queues.values()]
  }

  getQueue(name: string): QueueRecord {
    const q = this.store.queues.get(name)
    if (!q) throw notFound('queue not found')
    return q
  }

  queueLag(name: string): number {
    let lag = 0
    for (const m of this.store.messages.values()) if (m.queueName === name) lag++
    return lag
  }

  setQueuePaused(name: string, paused: boolean): void {
    const q = this.getQueue(name)
    this.upsertQueue(name, q.parallelism, paused)
  }

  deleteQueue(name: string): void {
    this.getQueue(name)
    for (const m of [...this.store.messages.values()])
      if (m.queueName === name) this.cancel(m.messageId)
    this.store.deleteQueue(name)
    const lane = this.lanes.get(`q:${name}`)
    if (lane && lane.active === 0) this.lanes.delete(`q:${name}`)
  }

  // ---- DLQ --------------------------------------------------------------------------------

  getDlq(id: string): DlqRecord {
    const d = this.store.dlq.get(id)
    if (!d) throw notFound('dlq message not found')
    return d
  }

  /** DLQ entries oldest first; `cursor` is the order number after which to continue. */
  listDlq(filter: Filter, cursor: string | undefined, count: number) {
    const after = cursor ? Number(cursor) : 0
    const page: DlqRecord[] = []
    let more = false
    for (const d of this.store.dlq.values()) {
      if (dlqOrder(d) <= after || !matches(d, filter)) continue
      if (page.length === count) {
        more = true
        break
      }
      page.push(d)
    }
    const last = page[page.length - 1]
    return { page, cursor: more && last ? String(dlqOrder(last)) : undefined }
  }

  deleteDlq(id: string): boolean {
    return this.store.deleteDlq(id)
  }

  /** Publishes a DLQ entry again as a new message (settings overridable) and removes it. */
  retryDlq(id: string, override: Partial<PublishSpec>): PublishResult {
    const d = this.getDlq(id)
    const result = this.publish(
      {
        destination: d.url,
        method: d.method,
        forward: d.header,
        body: d.body,
        retries: d.maxRetries,
        ...(d.retryDelay !== undefined && { retryDelay: d.retryDelay }),
        ...(d.timeoutMs !== undefined && { timeoutMs: d.timeoutMs }),
        ...(d.callback && { callback: d.callback, callbackConfig: d.callbackConfig }),
        ...(d.failureCallback && {
          failureCallback: d.failureCallback,
          failureCallbackConfig: d.failureCallbackConfig,
        }),
        ...(d.flowControl && { flowControl: d.flowControl }),
        ...(d.labels && { labels: d.labels }),
        ...override,
      },
      {
        callerIp: d.callerIp,
        ...(d.queueName && { queueName: d.queueName }),
        ...(d.scheduleId && { scheduleId: d.scheduleId }),
        ...(d.kind && { kind: d.kind }),
      },
    )
    this.store.deleteDlq(id)
    return result
  }

  // ---- schedules --------------------------------------------------------------------------

  createSchedule(
    spec: PublishSpec,
    extra: { cron: string; scheduleId?: string; queueName?: string; callerIp: string },
  ): string {
    const cron = parseCron(extra.cron)
    const id = extra.scheduleId ?? newId('scd_')
    const existing = this.store.schedules.get(id)
    const record: ScheduleRecord = {
      scheduleId: id,
      cron: extra.cron,
      destination: spec.destination,
      method: spec.method,
      header: spec.forward,
      body: spec.body,
      retries: spec.retries,
      ...(spec.delayMs !== undefined && { delayMs: spec.delayMs }),
      ...(spec.retryDelay !== undefined && { retryDelay: spec.retryDelay }),
      ...(spec.timeoutMs !== undefined && { timeoutMs: spec.timeoutMs }),
      ...(spec.callback && { callback: spec.callback, callbackConfig: spec.callbackConfig }),
      ...(spec.failureCallback && {
        failureCallback: spec.failureCallback,
        failureCallbackConfig: spec.failureCallbackConfig,
      }),
      ...(extra.queueName && { queueName: extra.queueName }),
      ...(spec.flowControl && { flowControl: spec.flowControl }),
      ...(spec.labels && { labels: spec.labels }),
      callerIp: extra.callerIp,
      isPaused: false,
      createdAt: existing?.createdAt ?? Date.now(),
      ...(existing?.lastScheduleTime !== undefined && {
        lastScheduleTime: existing.lastScheduleTime,
      }),
      lastScheduleStates: existing?.lastScheduleStates ?? {},
    }
    this.scheduleClocks.delete(id)
    this.armSchedule(record, cron)
    this.store.putSchedule(record)
    return id
  }

  listSchedules(): ScheduleRecord[] {
    return [...this.store.schedules.values()]
  }

  getSchedule(id: string): ScheduleRecord {
    const s = this.store.schedules.get(id)
    if (!s) throw notFound('schedule not found')
    return s
  }

  deleteSchedule(id: string): boolean {
    const timer = this.scheduleTimers.get(id)
    if (timer) clearTimeout(timer)
    this.scheduleTimers.delete(id)
    this.scheduleClocks.delete(id)
    return this.store.deleteSchedule(id)
  }

  setSchedulePaused(id: string, paused: boolean): void {
    const s = this.getSchedule(id)
    if (s.isPaused === paused) return
    s.isPaused = paused
    this.scheduleClocks.delete(id)
    this.armSchedule(s)
    this.store.putSchedule(s)
  }

  /**
   * Schedules run on a virtual clock that advances 1/timeScale times faster than real time from
   * the moment the schedule is armed: with timeScale 0.01 a cron minute lasts 0.6 real seconds.
   * `nextScheduleTime` is the real time of the next firing.
   */
  private armSchedule(s: ScheduleRecord, parsed?: Cron): void {
    const existingTimer = this.scheduleTimers.get(s.scheduleId)
    if (existingTimer) clearTimeout(existingTimer)
    this.scheduleTimers.delete(s.scheduleId)
    if (s.isPaused || this.stopping) {
      s.nextScheduleTime = undefined
      return
    }
    const now = Date.now()
    let clock = this.scheduleClocks.get(s.scheduleId)
    if (!clock) {
      clock = { real: now, virtual: now, lastVirtual: 0, cron: parsed ?? parseCron(s.cron) }
      this.scheduleClocks.set(s.scheduleId, clock)
    }
    const scale = this.options.timeScale
    const virtualNow = Math.max(clock.virtual + (now - clock.real) / scale, clock.lastVirtual)
    const next = clock.cron.nextRun(new Date(virtualNow))
    if (!next) {
      s.nextScheduleTime = undefined
      return
    }
    const nextVirtual = next.getTime()
    const real = Math.round(clock.real + (nextVirtual - clock.virtual) * scale)
    s.nextScheduleTime = real
    const c = clock
    const timer = setTimeout(
      () => {
        c.lastVirtual = nextVirtual
        this.fireSchedule(s.scheduleId)
      },
      Math.min(MAX_TIMER_MS, Math.max(0, real - now)),
    )
    timer.unref()
    this.scheduleTimers.set(s.scheduleId, timer)
  }

  private fireSchedule(id: string): void {
    const s = this.store.schedules.get(id)
    if (!s || s.isPaused || this.stopping) return
    const { messageId } = this.publish(
      {
        destination: s.destination,
        method: s.method,
        forward: s.header,
        body: s.body,
        retries: s.retries,
        ...(s.delayMs !== undefined && { delayMs: s.delayMs }),
        ...(s.retryDelay !== undefined && { retryDelay: s.retryDelay }),
        ...(s.timeoutMs !== undefined && { timeoutMs: s.timeoutMs }),
        ...(s.callback && { callback: s.callback, callbackConfig: s.callbackConfig }),
        ...(s.failureCallback && {
          failureCallback: s.failureCallback,
          failureCallbackConfig: s.failureCallbackConfig,
        }),
        ...(s.flowControl && { flowControl: s.flowControl }),
        ...(s.labels && { labels: s.labels }),
      },
      {
        callerIp: s.callerIp,
        scheduleId: id,
        ...(s.queueName && { queueName: s.queueName }),
      },
    )
    s.lastScheduleTime = Date.now()
    s.lastScheduleStates[messageId] = 'IN_PROGRESS'
    const keys = Object.keys(s.lastScheduleStates)
    for (const key of keys.slice(0, Math.max(0, keys.length - SCHEDULE_STATES_KEPT))) {
      delete s.lastScheduleStates[key]
    }
    this.armSchedule(s)
    this.store.putSchedule(s)
  }

  private scheduleOutcome(m: MessageRecord, state: 'SUCCESS' | 'FAIL'): void {
    if (!m.scheduleId) return
    const s = this.store.schedules.get(m.scheduleId)
    if (!s || s.lastScheduleStates[m.messageId] === undefined) return
    s.lastScheduleStates[m.messageId] = state
    this.store.putSchedule(s)
  }

  // ---- events -----------------------------------------------------------------------------

  /** Events newest first; `cursor` is the event number below which to continue. */
  listEvents(filter: Filter, cursor: string | undefined, count: number) {
    const below = cursor ? Number(cursor) : Number.POSITIVE_INFINITY
    const page: (LogEvent & { seq: number })[] = []
    let more = false
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i] as LogEvent & { seq: number }
      if (e.seq >= below || !matchesEvent(e, filter)) continue
      if (page.length === count) {
        more = true
        break
      }
      page.push(e)
    }
    const last = page[page.length - 1]
    return {
      page: page.map(({ seq: _seq, ...e }) => e),
      cursor: more && last ? String(last.seq) : undefined,
    }
  }
}

function dlqOrder(d: DlqRecord): number {
  return Number(d.dlqId.split('-')[1] ?? 0)
}

function anyOf(values: string[] | undefined, actual: string | undefined): boolean {
  return !values || (actual !== undefined && values.includes(actual))
}

/** QStash's list/bulk filters: OR within one field, AND across fields. */
export function matches(m: MessageRecord | DlqRecord, filter: Filter): boolean {
  if (!anyOf(filter.get('messageId'), m.messageId)) return false
  if (!anyOf(filter.get('messageIds'), m.messageId)) return false
  if (!anyOf(filter.get('dlqIds'), 'dlqId' in m ? m.dlqId : undefined)) return false
  if (!anyOf(filter.get('url'), m.url)) return false
  if (!anyOf(filter.get('queueName'), m.queueName)) return false
  if (!anyOf(filter.get('scheduleId'), m.scheduleId)) return false
  if (!anyOf(filter.get('flowControlKey'), m.flowControl?.key)) return false
  if (!anyOf(filter.get('callerIp') ?? filter.get('callerIP'), m.callerIp)) return false
  if (filter.has('topicName')) return false // URL groups are not emulated
  const labels = filter.get('label')
  if (labels && !m.labels?.some((l) => labels.includes(l))) return false
  const hosts = filter.get('host')
  const paths = filter.get('path')
  if (hosts || paths) {
    const u = new URL(m.url)
    if (!anyOf(hosts, u.host) && !anyOf(hosts, u.hostname)) return false
    if (!anyOf(paths, u.pathname)) return false
  }
  const statuses = filter.get('responseStatus')
  if (statuses) {
    const status = 'responseStatus' in m ? m.responseStatus : undefined
    if (status === undefined || !statuses.includes(String(status))) return false
  }
  const time = 'failedAt' in m ? m.failedAt : m.createdAt
  const from = filter.get('fromDate')?.[0]
  if (from !== undefined && time < Number(from)) return false
  const to = filter.get('toDate')?.[0]
  if (to !== undefined && time > Number(to)) return false
  return true
}

function matchesEvent(e: LogEvent, filter: Filter): boolean {
  if (!anyOf(filter.get('messageId'), e.messageId)) return false
  if (!anyOf(filter.get('messageIds'), e.messageId)) return false
  if (!anyOf(filter.get('url'), e.url)) return false
  if (!anyOf(filter.get('queueName'), e.queueName)) return false
  if (!anyOf(filter.get('scheduleId'), e.scheduleId)) return false
  if (filter.has('topicName')) return false
  const state = filter.get('state')
  if (state) {
    const inProgress =
      state.includes('IN_PROGRESS') && ['ACTIVE', 'RETRY', 'ERROR'].includes(e.state)
    if (!inProgress && !state.includes(e.state)) return false
  }
  const labels = filter.get('label')
  if (labels && !e.labels?.some((l) => labels.includes(l))) return false
  const from = filter.get('fromDate')?.[0]
  if (from !== undefined && e.time < Number(from)) return false
  const to = filter.get('toDate')?.[0]
  if (to !== undefined && e.time > Number(to)) return false
  return true
}

/**
 * QStash stops retrying at once, and dead-letters the message, when the destination answers 489
 * with `Upstash-NonRetryable-Error: true`; every other failure is retried.
 */
function isNonRetryable(result: AttemptResult): boolean {
  if (result.kind !== 'response' || result.status !== 489) return false
  return Object.entries(result.headers).some(
    ([name, values]) =>
      name.toLowerCase() === 'upstash-nonretryable-error' &&
      values.some((v) => v.trim() === 'true'),
  )
}
