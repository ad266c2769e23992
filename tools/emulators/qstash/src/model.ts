/** Records kept in state, and the JSON shapes QStash's REST API answers with. */

export type HeaderPairs = [string, string][]

/** Settings for the message a callback or failure callback creates (`Upstash-Callback-*`). */
export interface CallbackConfig {
  retries?: number
  delayMs?: number
  method?: string
  timeoutMs?: number
  retryDelay?: string
  forward: HeaderPairs
}

export interface FlowControl {
  key: string
  parallelism?: number
  rate?: number
  period?: number
}

export interface MessageRecord {
  messageId: string
  /** monotonic publish order, used for FIFO order in queues across restarts */
  seq: number
  url: string
  method: string
  /** headers delivered to the destination (forwarded ones and Content-Type) */
  header: HeaderPairs
  /** base64 of the raw body */
  body: string
  createdAt: number
  /** when the next attempt is due (unix ms, real time) */
  notBefore: number
  /** failed attempts so far; sent as Upstash-Retried */
  retried: number
  maxRetries: number
  retryDelay?: string
  timeoutMs?: number
  callback?: string
  failureCallback?: string
  callbackConfig?: CallbackConfig
  failureCallbackConfig?: CallbackConfig
  queueName?: string
  scheduleId?: string
  flowControl?: FlowControl
  labels?: string[]
  callerIp: string
  /** a queue message waiting for its retry keeps its queue slot (strict FIFO) */
  holdsSlot?: boolean
  /** set on messages created by callbacks: they get no callbacks of their own */
  kind?: 'callback' | 'failure-callback'
  /** the Upstash Workflow run this message belongs to (a step, or the run's failure callback) */
  workflowRunId?: string
}

export interface DlqRecord extends MessageRecord {
  dlqId: string
  failedAt: number
  responseStatus?: number
  responseHeader?: Record<string, string[]>
  /** base64 of the last response body */
  responseBody?: string
}

export interface QueueRecord {
  name: string
  parallelism: number
  paused: boolean
  createdAt: number
  updatedAt: number
}

export type ScheduleState = 'IN_PROGRESS' | 'SUCCESS' | 'FAIL'

export interface ScheduleRecord {
  scheduleId: string
  cron: string
  destination: string
  method: string
  header: HeaderPairs
  body: string
  retries: number
  delayMs?: number
  retryDelay?: string
  timeoutMs?: number
  callback?: string
  failureCallback?: string
  callbackConfig?: CallbackConfig
  failureCallbackConfig?: CallbackConfig
  queueName?: string
  flowControl?: FlowControl
  labels?: string[]
  callerIp: string
  isPaused: boolean
  createdAt: number
  lastScheduleTime?: number
  nextScheduleTime?: number
  lastScheduleStates: Record<string, ScheduleState>
}

export type WorkflowRunState = 'RUN_STARTED' | 'RUN_SUCCESS' | 'RUN_FAILED' | 'RUN_CANCELED'

/** One entry of a run's history, in the raw form the SDK reads (`RawStep`). */
export interface WorkflowStepEntry {
  messageId: string
  callType: 'step' | 'toCallback' | 'fromCallback'
  /** base64 of the raw body: the initial payload for the first entry, a step's JSON after it */
  body: string
  createdAt: number
}

/** Settings of the trigger that QStash applies to every step of the run (`WF_TriggerOnConfig`). */
export interface WorkflowRunConfig {
  retries: number
  retryDelay?: string
  timeoutMs?: number
  flowControl?: FlowControl
  failureCallback?: string
  failureCallbackConfig?: CallbackConfig
  /** headers the trigger forwarded (user headers, SDK version), delivered with every step */
  forward: HeaderPairs
}

export interface WorkflowRunRecord {
  workflowRunId: string
  workflowUrl: string
  state: WorkflowRunState
  createdAt: number
  completedAt?: number
  /** what the route function returned (the body of the run's final DELETE) */
  response?: string
  labels?: string[]
  dlqId?: string
  config: WorkflowRunConfig
  steps: WorkflowStepEntry[]
}

export interface DedupEntry {
  messageId: string
  expiresAt: number
}

export type LogState =
  | 'CREATED'
  | 'ACTIVE'
  | 'RETRY'
  | 'ERROR'
  | 'DELIVERED'
  | 'FAILED'
  | 'CANCEL_REQUESTED'
  | 'CANCELLED'

export interface LogEvent {
  time: number
  state: LogState
  messageId: string
  url: string
  queueName?: string
  scheduleId?: string
  nextDeliveryTime?: number
  error?: string
  responseStatus?: number
  labels?: string[]
  label?: string
}

export function headersToRecord(pairs: HeaderPairs): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [name, value] of pairs) {
    const list = out[name]
    if (list) list.push(value)
    else out[name] = [value]
  }
  return out
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** QStash answers `body` when the bytes are UTF-8, `bodyBase64` otherwise. */
export function bodyFields(base64: string, field = 'body'): Record<string, string> {
  if (base64 === '') return {}
  const bytes = Buffer.from(base64, 'base64')
  try {
    return { [field]: utf8.decode(bytes) }
  } catch {
    return { [`${field}Base64`]: base64 }
  }
}

function flowFields(flow: FlowControl | undefined): Record<string, unknown> {
  if (!flow) return {}
  return {
    flowControlKey: flow.key,
    ...(flow.parallelism !== undefined && { parallelism: flow.parallelism }),
    ...(flow.rate !== undefined && { rate: flow.rate }),
    ...(flow.period !== undefined && { period: flow.period }),
  }
}

function labelFields(labels: string[] | undefined): Record<string, unknown> {
  if (!labels || labels.length === 0) return {}
  return { label: labels[0], labels }
}

export function messagePayload(m: MessageRecord): Record<string, unknown> {
  return {
    messageId: m.messageId,
    url: m.url,
    method: m.method,
    header: headersToRecord(m.header),
    ...bodyFields(m.body),
    maxRetries: m.maxRetries,
    ...(m.retryDelay !== undefined && { retryDelayExpression: m.retryDelay }),
    notBefore: m.notBefore,
    createdAt: m.createdAt,
    ...(m.callback && { callback: m.callback }),
    ...(m.failureCallback && { failureCallback: m.failureCallback }),
    ...(m.queueName && { queueName: m.queueName }),
    ...(m.scheduleId && { scheduleId: m.scheduleId }),
    callerIP: m.callerIp,
    ...flowFields(m.flowControl),
    ...labelFields(m.labels),
  }
}

export function dlqPayload(d: DlqRecord): Record<string, unknown> {
  return {
    ...messagePayload(d),
    dlqId: d.dlqId,
    ...(d.responseStatus !== undefined && { responseStatus: d.responseStatus }),
    ...(d.responseHeader && { responseHeader: d.responseHeader }),
    ...(d.responseBody !== undefined && bodyFields(d.responseBody, 'responseBody')),
  }
}

export function queuePayload(q: QueueRecord, lag: number): Record<string, unknown> {
  return {
    name: q.name,
    parallelism: q.parallelism,
    paused: q.paused,
    lag,
    createdAt: q.createdAt,
    updatedAt: q.updatedAt,
  }
}

export function schedulePayload(s: ScheduleRecord): Record<string, unknown> {
  return {
    scheduleId: s.scheduleId,
    cron: s.cron,
    createdAt: s.createdAt,
    destination: s.destination,
    method: s.method,
    header: headersToRecord(s.header),
    ...bodyFields(s.body),
    retries: s.retries,
    ...(s.delayMs !== undefined && { delay: Math.round(s.delayMs / 1000) }),
    ...(s.callback && { callback: s.callback }),
    ...(s.failureCallback && { failureCallback: s.failureCallback }),
    callerIp: s.callerIp,
    isPaused: s.isPaused,
    ...(s.queueName && { queueName: s.queueName }),
    ...(s.retryDelay !== undefined && { retryDelayExpression: s.retryDelay }),
    ...flowFields(s.flowControl),
    ...labelFields(s.labels),
    ...(s.lastScheduleTime !== undefined && { lastScheduleTime: s.lastScheduleTime }),
    ...(s.nextScheduleTime !== undefined && { nextScheduleTime: s.nextScheduleTime }),
    lastScheduleStates: s.lastScheduleStates,
  }
}
