import { DEV_WEBHOOK_SECRETS_KEY, openSecret, type WebhookEventType } from '@synthstack/jobs'
import { Client } from '@upstash/qstash'
import { Webhook } from 'standardwebhooks'
import type { Config } from '../config'
import type { Sql } from '../store/db'
import { rows } from '../store/db'

/** QStash retries a delivery this many times (its exponential backoff between them). */
export const WEBHOOK_RETRIES = 5

const clients = new Map<string, Client>()

function qstashFor(config: Config): Client | null {
  if (!config.QSTASH_TOKEN) return null
  const key = `${config.QSTASH_URL ?? ''}|${config.QSTASH_TOKEN}`
  let client = clients.get(key)
  if (!client) {
    client = new Client({
      ...(config.QSTASH_URL && { baseUrl: config.QSTASH_URL }),
      token: config.QSTASH_TOKEN,
      enableTelemetry: false,
      retry: { retries: 2, backoff: () => 50 },
    })
    clients.set(key, client)
  }
  return client
}

function secretsMaterial(config: Config): string | null {
  return (
    config.WEBHOOK_SECRETS_KEY ??
    (config.ENVIRONMENT === 'production' ? null : DEV_WEBHOOK_SECRETS_KEY)
  )
}

export interface WebhookEvent {
  /** Unique per event: the receiver deduplicates on it (`webhook-id`). */
  id: string
  type: WebhookEventType
  workspaceId: string
  data: Record<string, unknown>
}

/**
 * Sends `event` to every active endpoint of its workspace subscribed to its type: one delivery
 * row per endpoint (unique on endpoint + event id, so a duplicate job delivery sends nothing
 * twice), each handed to QStash as a message to this worker's `/webhooks/deliver`, so QStash
 * retries it with backoff. Each attempt is signed when it is sent (`deliverWebhook`): a retry
 * hours later still carries a fresh `webhook-timestamp` that receivers' 5-minute window accepts.
 * The failure callback (`/callbacks/webhook?final=true`) marks a delivery that ran out of
 * retries. Best effort: a failure here is logged, never fails the job.
 */
export async function sendWebhookEvent(
  config: Config,
  sql: Sql,
  workerBase: string,
  event: WebhookEvent,
): Promise<number> {
  try {
    const client = qstashFor(config)
    const payload = JSON.stringify({
      type: event.type,
      timestamp: new Date().toISOString(),
      data: event.data,
    })
    const created = await rows<{ delivery_id: string }>(
      sql,
      `insert into webhook_deliveries (workspace_id, endpoint_id, event_id, event_type, payload)
       select workspace_id, id, $3, $2, $4::jsonb from webhook_endpoints
       where workspace_id = $1 and active and events ? $2
       on conflict (endpoint_id, event_id) do nothing
       returning id::text as delivery_id`,
      [event.workspaceId, event.type, event.id, payload],
    )
    if (created.length === 0) return 0
    if (!client || !secretsMaterial(config)) {
      await sql.query(
        `update webhook_deliveries set status = 'failed', updated_at = now()
         where id = any($1::uuid[])`,
        [created.map((d) => d.delivery_id)],
      )
      log('outbound webhooks not configured (QSTASH_TOKEN / WEBHOOK_SECRETS_KEY)', event)
      return 0
    }
    await Promise.all(
      created.map(async (d) => {
        const { messageId } = await client.publish({
          url: `${workerBase}/webhooks/deliver?delivery_id=${d.delivery_id}`,
          retries: WEBHOOK_RETRIES,
          failureCallback: `${workerBase}/callbacks/webhook?delivery_id=${d.delivery_id}&final=true`,
        })
        await sql.query('update webhook_deliveries set message_id = $2 where id = $1', [
          d.delivery_id,
          messageId,
        ])
      }),
    )
    return created.length
  } catch (error) {
    log('outbound webhook not sent', event, error)
    return 0
  }
}

/** How long a receiver may take to answer one delivery attempt. */
export const WEBHOOK_TIMEOUT_MS = 10_000

export type DeliveryAttempt =
  | { outcome: 'delivered' | 'failed'; status: number; attempts: number }
  /** Already delivered (a duplicate QStash delivery), or the endpoint or row is gone. */
  | { outcome: 'skipped'; reason: 'delivered' | 'gone' | 'endpoint_inactive' }

interface PendingDelivery {
  url: string
  secret_ciphertext: string
  active: boolean
  event_id: string
  payload: unknown
  status: string
}

/**
 * One attempt at delivery `deliveryId` (QStash's `retried` counts the attempts before it): signs
 * the stored payload per Standard Webhooks with the current time, POSTs it to the endpoint and
 * records the receiver's answer. A 2xx is `delivered`; anything else (or no answer within
 * `WEBHOOK_TIMEOUT_MS`) is `failed`, for the caller to hand back to QStash for a retry.
 */
export async function deliverWebhook(
  config: Config,
  sql: Sql,
  input: { deliveryId: string; retried: number },
): Promise<DeliveryAttempt> {
  const [row] = await rows<PendingDelivery>(
    sql,
    `select e.url, e.secret_ciphertext, e.active, d.event_id, d.payload, d.status
     from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
     where d.id = $1`,
    [input.deliveryId],
  )
  if (!row) return { outcome: 'skipped', reason: 'gone' }
  if (row.status === 'delivered') return { outcome: 'skipped', reason: 'delivered' }
  if (!row.active) {
    await recordDeliveryOutcome(sql, { ...input, status: 0, final: true })
    return { outcome: 'skipped', reason: 'endpoint_inactive' }
  }
  const material = secretsMaterial(config)
  if (!material) throw new Error('WEBHOOK_SECRETS_KEY is not configured')
  const secret = await openSecret(material, row.secret_ciphertext)
  const body = JSON.stringify(row.payload)
  const now = new Date()
  let status = 0
  try {
    const response = await fetch(row.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'SynthStack-Webhooks/1',
        'webhook-id': row.event_id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(row.event_id, now, body),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    })
    status = response.status
    await response.body?.cancel()
  } catch {
    // Unreachable, refused or timed out: recorded as status 0, retried like a 5xx.
  }
  await recordDeliveryOutcome(sql, { ...input, status, final: false })
  const delivered = status >= 200 && status < 300
  return { outcome: delivered ? 'delivered' : 'failed', status, attempts: input.retried + 1 }
}

function log(msg: string, event: WebhookEvent, error?: unknown) {
  console.warn(
    JSON.stringify({
      level: 'warn',
      msg,
      event_id: event.id,
      event_type: event.type,
      ...(error !== undefined && { error: error instanceof Error ? error.name : 'unknown' }),
    }),
  )
}

/**
 * Records one delivery attempt: `status` is the receiver's HTTP status (0: no answer); 2xx →
 * delivered, else pending (QStash retries). With `final` (QStash's failure callback: retries
 * exhausted) the delivery is failed; a null `status` keeps the last receiver status recorded.
 */
export async function recordDeliveryOutcome(
  sql: Sql,
  input: { deliveryId: string; status: number | null; retried: number; final: boolean },
): Promise<boolean> {
  const ok = input.status !== null && input.status >= 200 && input.status < 300
  const status = ok ? 'delivered' : input.final ? 'failed' : 'pending'
  const updated = await rows<{ id: string }>(
    sql,
    `update webhook_deliveries set
       status = case when status = 'delivered' then status else $2 end,
       attempts = greatest(attempts, $3), response_status = coalesce($4, response_status),
       updated_at = now()
     where id = $1 returning id`,
    [input.deliveryId, status, input.retried + 1, input.status],
  )
  return updated.length > 0
}
