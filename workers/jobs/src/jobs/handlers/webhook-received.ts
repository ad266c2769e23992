import { webhookReceivedSpec } from '@synthstack/jobs'
import { defineJob } from '../types'

/** The default target of inbound webhooks: records the verified event's identity and size. */
export const webhookReceived = defineJob(webhookReceivedSpec, async (payload) => ({
  source_id: payload.source_id,
  event_id: payload.event_id,
  event_type: payload.event_type,
  body_bytes: JSON.stringify(payload.body).length,
}))
