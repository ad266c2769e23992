/** Reads a publish, enqueue, batch entry or schedule request the way QStash does. */
import { createHash } from 'node:crypto'
import { compileRetryDelay, parseDuration } from './duration'
import { badRequest } from './errors'
import type { CallbackConfig, FlowControl, HeaderPairs } from './model'

export const DEFAULT_RETRIES = 3
export const MAX_RETRIES = 100
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'])
const NAME = /^[A-Za-z0-9._-]{1,200}$/

export interface PublishSpec {
  destination: string
  method: string
  forward: HeaderPairs
  /** base64 of the raw body */
  body: string
  delayMs?: number
  /** absolute due time (unix ms) from Upstash-Not-Before */
  notBefore?: number
  retries: number
  retryDelay?: string
  timeoutMs?: number
  callback?: string
  failureCallback?: string
  callbackConfig?: CallbackConfig
  failureCallbackConfig?: CallbackConfig
  dedupKey?: string
  labels?: string[]
  flowControl?: FlowControl
}

/** `x-my-header` → `X-My-Header`, the form QStash forwards and lists. */
export function canonicalHeaderName(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((part) => (part ? (part[0] as string).toUpperCase() + part.slice(1) : part))
    .join('-')
}

/** Validates a destination or callback URL; QStash's message for a missing scheme. */
export function parseUrl(raw: string, what = 'destination'): string {
  const value = raw.trim()
  if (!/^https?:\/\//i.test(value)) {
    throw badRequest(`invalid ${what} url: endpoint has invalid scheme, add http:// or https://`)
  }
  try {
    const url = new URL(value)
    if (!url.hostname) throw new Error('missing host')
  } catch {
    throw badRequest(`invalid ${what} url: ${JSON.stringify(value)} is not a valid URL`)
  }
  return value
}

/** The destination as it appears in the request path (raw, or percent-encoded as a whole). */
export function parseDestination(rawPath: string): string {
  let value = rawPath
  if (!value.includes('://') && /^https?%3A/i.test(value)) {
    try {
      value = decodeURIComponent(value)
    } catch {
      // keep as is; parseUrl reports it
    }
  }
  if (value === '') throw badRequest('destination is required')
  return parseUrl(value)
}

export function validateName(name: string, what: 'queue' | 'schedule'): string {
  if (!NAME.test(name)) {
    throw badRequest(
      `invalid ${what} ${what === 'queue' ? 'name' : 'id'}: ${JSON.stringify(name.slice(0, 80))}, it can only contain alphanumeric characters, hyphens, periods, and underscores`,
    )
  }
  return name
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers.get(name)
  return value === null ? undefined : value
}

function parseRetries(value: string, name: string): number {
  if (!/^\d+$/.test(value.trim())) throw badRequest(`invalid ${name} header: must be an integer`)
  const n = Number(value)
  if (n > MAX_RETRIES) throw badRequest(`invalid ${name} header: at most ${MAX_RETRIES} retries`)
  return n
}

function parseDelay(value: string, name: string): number {
  const ms = parseDuration(value)
  if (ms === undefined) {
    throw badRequest(
      `invalid ${name} header: ${JSON.stringify(value.slice(0, 80))}, expected a duration like 50s, 10m, 1h or 1d`,
    )
  }
  return ms
}

function parseTimeout(value: string, name: string): number {
  const ms = parseDelay(value, name)
  if (ms <= 0) throw badRequest(`invalid ${name} header: must be positive`)
  return ms
}

function parseMethod(value: string, name: string): string {
  const method = value.trim().toUpperCase()
  if (!METHODS.has(method)) {
    throw badRequest(`invalid ${name} header: ${JSON.stringify(value.slice(0, 20))}`)
  }
  return method
}

function parseRetryDelay(value: string, name: string): string {
  try {
    compileRetryDelay(value)
  } catch (error) {
    throw badRequest(`invalid ${name} header: ${(error as Error).message}`)
  }
  return value
}

function parseFlowControl(headers: Headers): FlowControl | undefined {
  const key = header(headers, 'upstash-flow-control-key')
  const value = header(headers, 'upstash-flow-control-value')
  if (key === undefined && value === undefined) return undefined
  if (!key) throw badRequest('Upstash-Flow-Control-Key is required with Upstash-Flow-Control-Value')
  if (!value)
    throw badRequest('Upstash-Flow-Control-Value is required with Upstash-Flow-Control-Key')
  const flow: FlowControl = { key }
  for (const part of value.split(',')) {
    const [k, v] = part.split('=').map((s) => s.trim())
    if (!k || v === undefined)
      throw badRequest(`invalid Upstash-Flow-Control-Value: ${part.trim()}`)
    if (k === 'period') {
      const ms = parseDuration(/^\d+$/.test(v) ? `${v}s` : v)
      if (ms === undefined || ms <= 0) throw badRequest(`invalid flow control period: ${v}`)
      flow.period = Math.round(ms / 1000)
    } else if (k === 'parallelism' || k === 'rate') {
      const n = Number(v)
      if (!Number.isInteger(n) || n < 1) throw badRequest(`invalid flow control ${k}: ${v}`)
      flow[k] = n
    } else {
      throw badRequest(`invalid Upstash-Flow-Control-Value: unknown key ${k}`)
    }
  }
  return flow
}

function parseCallbackConfig(headers: Headers, prefix: string, label: string): CallbackConfig {
  const config: CallbackConfig = { forward: [] }
  const forwardPrefix = `${prefix}forward-`
  headers.forEach((value, name) => {
    if (name.startsWith(forwardPrefix) && name.length > forwardPrefix.length) {
      config.forward.push([canonicalHeaderName(name.slice(forwardPrefix.length)), value])
    }
  })
  const retries = header(headers, `${prefix}retries`)
  if (retries !== undefined) config.retries = parseRetries(retries, `${label}-Retries`)
  const delay = header(headers, `${prefix}delay`)
  if (delay !== undefined) config.delayMs = parseDelay(delay, `${label}-Delay`)
  const method = header(headers, `${prefix}method`)
  if (method !== undefined) config.method = parseMethod(method, `${label}-Method`)
  const timeout = header(headers, `${prefix}timeout`)
  if (timeout !== undefined) config.timeoutMs = parseTimeout(timeout, `${label}-Timeout`)
  const retryDelay = header(headers, `${prefix}retry-delay`)
  if (retryDelay !== undefined)
    config.retryDelay = parseRetryDelay(retryDelay, `${label}-Retry-Delay`)
  return config
}

/** Parses every `Upstash-*` setting of a publish; throws QStashError(400) on a bad value. */
export function parsePublish(headers: Headers, destination: string, body: Uint8Array): PublishSpec {
  const forward: HeaderPairs = []
  const contentType = header(headers, 'content-type')
  if (contentType !== undefined) forward.push(['Content-Type', contentType])
  headers.forEach((value, name) => {
    if (name.startsWith('upstash-forward-') && name.length > 'upstash-forward-'.length) {
      forward.push([canonicalHeaderName(name.slice('upstash-forward-'.length)), value])
    }
  })
  const spec: PublishSpec = {
    destination,
    method: 'POST',
    forward,
    body: Buffer.from(body).toString('base64'),
    retries: DEFAULT_RETRIES,
  }
  const method = header(headers, 'upstash-method')
  if (method !== undefined) spec.method = parseMethod(method, 'Upstash-Method')
  const delay = header(headers, 'upstash-delay')
  if (delay !== undefined) spec.delayMs = parseDelay(delay, 'Upstash-Delay')
  const notBefore = header(headers, 'upstash-not-before')
  if (notBefore !== undefined) {
    if (!/^\d{1,12}$/.test(notBefore.trim())) {
      throw badRequest('invalid Upstash-Not-Before header: must be a unix timestamp in seconds')
    }
    spec.notBefore = Number(notBefore) * 1000
  }
  const retries = header(headers, 'upstash-retries')
  if (retries !== undefined) spec.retries = parseRetries(retries, 'Upstash-Retries')
  const retryDelay = header(headers, 'upstash-retry-delay')
  if (retryDelay !== undefined) spec.retryDelay = parseRetryDelay(retryDelay, 'Upstash-Retry-Delay')
  const timeout = header(headers, 'upstash-timeout')
  if (timeout !== undefined) spec.timeoutMs = parseTimeout(timeout, 'Upstash-Timeout')
  const callback = header(headers, 'upstash-callback')
  if (callback !== undefined) {
    spec.callback = parseUrl(callback, 'callback')
    spec.callbackConfig = parseCallbackConfig(headers, 'upstash-callback-', 'Upstash-Callback')
  }
  const failureCallback = header(headers, 'upstash-failure-callback')
  if (failureCallback !== undefined) {
    spec.failureCallback = parseUrl(failureCallback, 'failure callback')
    spec.failureCallbackConfig = parseCallbackConfig(
      headers,
      'upstash-failure-callback-',
      'Upstash-Failure-Callback',
    )
  }
  const label = header(headers, 'upstash-label')
  if (label !== undefined) {
    const labels = label
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean)
    if (labels.length > 0) spec.labels = labels
  }
  const flow = parseFlowControl(headers)
  if (flow) spec.flowControl = flow

  const dedupId = header(headers, 'upstash-deduplication-id')
  const contentDedup = header(headers, 'upstash-content-based-deduplication')
  if (contentDedup !== undefined && !/^(true|false)$/i.test(contentDedup.trim())) {
    throw badRequest('invalid Upstash-Content-Based-Deduplication header: must be true or false')
  }
  if (dedupId !== undefined) {
    if (dedupId === '' || dedupId.length > 1000) {
      throw badRequest('invalid Upstash-Deduplication-Id header')
    }
    spec.dedupKey = `id:${dedupId}`
  } else if (contentDedup?.trim().toLowerCase() === 'true') {
    const hash = createHash('sha256').update(destination).update('\n').update(body)
    const names: string[] = []
    headers.forEach((_v, name) => {
      if (name === 'content-type' || name.startsWith('upstash-')) names.push(name)
    })
    for (const name of names.sort()) hash.update(`\n${name}:${headers.get(name)}`)
    spec.dedupKey = `content:${hash.digest('hex')}`
  }
  return spec
}
