import { type NewUsageEvent, usageEvents } from '@synthstack/db'
import type { Context } from 'hono'
import type { Config } from '../config'
import { getDb, getRedis } from '../stores'
import type { AppEnv } from '../types'
import { waitUntil } from '../wait-until'
import { tokenCounterKey } from './budget'

/**
 * Usage metering, off the response path and batched: `recordUsage` queues an event in the
 * isolate; the first event of a batch schedules one flush (`waitUntil`) after USAGE_FLUSH_MS, or
 * at once when USAGE_BATCH_MAX events wait. A flush is one multi-row INSERT into usage_events
 * plus one Redis pipeline that adds the tokens to each workspace's monthly counter (the budget
 * check reads it). Events that arrive while a flush runs go to the next batch.
 */
interface Batch {
  events: NewUsageEvent[]
  scheduled: boolean
}

const batches = new WeakMap<Config, Batch>()
const COUNTER_TTL_SECONDS = 40 * 24 * 3600

export interface UsageInput {
  route: string
  model: string
  tokensIn: number
  tokensOut: number
  status: number
  /** Milliseconds since the request started. */
  latencyMs: number
}

export function recordUsage(c: Context<AppEnv>, input: UsageInput): void {
  const auth = c.get('auth')
  const config = c.get('config')
  let batch = batches.get(config)
  if (!batch) {
    batch = { events: [], scheduled: false }
    batches.set(config, batch)
  }
  batch.events.push({
    workspaceId: auth.workspaceId,
    apiKeyId: auth.apiKeyId,
    userId: auth.userId,
    route: input.route,
    model: input.model,
    tokensIn: Math.max(0, Math.round(input.tokensIn)),
    tokensOut: Math.max(0, Math.round(input.tokensOut)),
    latencyMs: Math.max(0, Math.round(input.latencyMs)),
    status: input.status,
    requestId: c.get('requestId'),
    createdAt: new Date(),
  })
  const full = batch.events.length >= config.USAGE_BATCH_MAX
  if (batch.scheduled && !full) return
  batch.scheduled = true
  const current = batch
  const wait = full ? 0 : config.USAGE_FLUSH_MS
  waitUntil(
    c,
    'usage flush',
    new Promise((resolve) => setTimeout(resolve, wait)).then(() => flush(config, current)),
  )
}

async function flush(config: Config, batch: Batch): Promise<void> {
  batch.scheduled = false
  const events = batch.events.splice(0)
  if (events.length === 0) return
  const tokens = new Map<string, number>()
  for (const event of events) {
    const n = (event.tokensIn ?? 0) + (event.tokensOut ?? 0)
    if (n > 0) tokens.set(event.workspaceId, (tokens.get(event.workspaceId) ?? 0) + n)
  }
  const counters = async () => {
    if (tokens.size === 0) return
    const pipeline = getRedis(config).pipeline()
    for (const [workspaceId, n] of tokens) {
      const key = tokenCounterKey(workspaceId)
      pipeline.incrby(key, n)
      pipeline.expire(key, COUNTER_TTL_SECONDS)
    }
    await pipeline.exec()
  }
  const results = await Promise.allSettled([
    getDb(config).insert(usageEvents).values(events),
    counters(),
  ])
  const failed = results.find((r) => r.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
}
