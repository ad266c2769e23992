import { Hono } from 'hono'
import type { AppEnv } from '../env'
import { JobsError } from '../errors'
import { sqlFor } from '../store/db'
import { deliverWebhook } from '../webhooks/outbound'
import { requireUuid } from './uuid-param'

/**
 * `POST /webhooks/deliver?delivery_id=<uuid>`: QStash's message for one outbound webhook
 * delivery. Signs and sends it now (`deliverWebhook`); a receiver that fails answers 502 here so
 * QStash retries with its backoff, and each retry is signed afresh. A delivery already made, or
 * one whose endpoint was deleted or disabled, answers 200 and sends nothing.
 */
export const webhookDeliveries = new Hono<AppEnv>().post('/deliver', async (c) => {
  const deliveryId = requireUuid(c.req.query('delivery_id'), 'delivery_id')
  const attempt = await deliverWebhook(c.get('config'), sqlFor(c.get('config')), {
    deliveryId,
    retried: c.get('delivery').retried,
  })
  if (attempt.outcome === 'failed') {
    throw new JobsError(
      `The receiver answered ${attempt.status === 0 ? 'nothing' : `HTTP ${attempt.status}`}`,
      { status: 502, type: 'job_error', code: 'webhook_receiver_failed' },
    )
  }
  return c.json({ delivery_id: deliveryId, ...attempt }, 200)
})
