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

interface DeliveryRow {
  delivery_id: string
  url: string
  secret_ciphertext: string
}

/**
 * Sends `event` to every active endpoint of its workspace subscribed to its type: one delivery
 * row per endpoint (unique on endpoint + event id, so a duplicate job delivery sends nothing
 * twice), signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`)
 * and published through QStash to the endpoint URL, so QStash retries it with backoff. The
 * callbacks (`/callbacks/webhook`) record each outcome on the row. Best effort: a failure here
 * is logged, never fails the job.
 */
export async function sendWebhookEvent(
  config: Config,
  sql: Sql,
  workerBase: string,
  event: WebhookEvent,
): Promise<number> {
  try {
    const client = qstashFor(config)
    const material = secretsMaterial(config)
    const payload = JSON.stringify({
      type: event.type,
      timestamp: new Date().toISOString(),
      data: event.data,
    })
    const created = await rows<DeliveryRow>(
      sql,
      `with targets as (
         select id, workspace_id, url, secret_ciphertext from webhook_endpoints
         where workspace_id = $1 and active and events ? $2
       ), ins as (
         insert into webhook_deliveries (workspace_id, endpoint_id, event_id, event_type, payload)
         select workspace_id, id, $3, $2, $4::jsonb from targets
         on conflict (endpoint_id, event_id) do nothing
         returning id, endpoint_id
       )
       select ins.id::text as delivery_id, t.url, t.secret_ciphertext
       from ins join targets t on t.id = ins.endpoint_id`,
      [event.workspaceId, event.type, event.id, payload],
    )
    if (created.length === 0) return 0
    if (!client || !material) {
      await sql.query(
        `update webhook_deliveries set status = 'failed', updated_at = now()
         where id = any($1::uuid[])`,
        [created.map((d) => d.delivery_id)],
      )
      log('outbound webhooks not configured (QSTASH_TOKEN / WEBHOOK_SECRETS_KEY)', event)
      return 0
    }
    const now = new Date()
    await Promise.all(
      created.map(async (d) => {
        const secret = await openSecret(material, d.secret_ciphertext)
        const signature = new Webhook(secret).sign(event.id, now, payload)
        const callback = `${workerBase}/callbacks/webhook?delivery_id=${d.delivery_id}`
        const { messageId } = await client.publish({
          url: d.url,
          body: payload,
          headers: {
            'content-type': 'application/json',
            'webhook-id': event.id,
            'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
            'webhook-signature': signature,
          },
          retries: WEBHOOK_RETRIES,
          callback,
          failureCallback: `${callback}&final=true`,
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

/** Records one QStash callback for a delivery: 2xx → delivered; the failure callback → failed. */
export async function recordDeliveryOutcome(
  sql: Sql,
  input: { deliveryId: string; status: number; retried: number; final: boolean },
): Promise<boolean> {
  const ok = input.status >= 200 && input.status < 300
  const status = ok ? 'delivered' : input.final ? 'failed' : 'pending'
  const updated = await rows<{ id: string }>(
    sql,
    `update webhook_deliveries set
       status = case when status = 'delivered' then status else $2 end,
       attempts = greatest(attempts, $3), response_status = $4, updated_at = now()
     where id = $1 returning id`,
    [input.deliveryId, status, input.retried + 1, input.status],
  )
  return updated.length > 0
}
