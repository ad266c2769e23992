import * as z from 'zod'
import { workflowRunSpec } from './workflow-run'

/**
 * A job type as both sides see it: the edge API validates payloads with `payload` at enqueue
 * time, the worker validates again and dispatches to the handler registered under `type`.
 */
export interface JobTypeSpec<TSchema extends z.ZodType = z.ZodType> {
  /** Dotted lowercase name, e.g. `email.send`. */
  type: string
  description: string
  payload: TSchema
  /** Only where `JOBS_ENABLE_TEST_JOBS` is true (tests, local dev, staging). */
  testOnly?: boolean
  /** May be the target of an inbound webhook mapping (its payload is `WebhookEventPayload`). */
  acceptsWebhooks?: boolean
  /**
   * Its deliveries stay open a long time (e.g. `workflow.run` waits for its run), so it runs on
   * the long lane (`LONG_LANE`) instead of its priority's, and never holds those lanes' slots.
   */
  longRunning?: boolean
}

const spec = <TSchema extends z.ZodType>(s: JobTypeSpec<TSchema>): JobTypeSpec<TSchema> => s

export const systemEchoSpec = spec({
  type: 'system.echo',
  description: 'Returns its payload unchanged.',
  payload: z.strictObject({
    message: z.string().max(10_000),
    /** Anything JSON, returned as is. */
    data: z.json().optional(),
  }),
})

export const systemNoopSpec = spec({
  type: 'system.noop',
  description: 'Does nothing and succeeds (benchmarks, health checks).',
  payload: z.strictObject({ data: z.json().optional() }),
})

export const systemFlakySpec = spec({
  type: 'system.flaky',
  description: 'Fails the first fail_times attempts (retried by QStash), then succeeds.',
  testOnly: true,
  payload: z.strictObject({
    fail_times: z.int().min(0).max(20),
    data: z.json().optional(),
  }),
})

export const systemSleepSpec = spec({
  type: 'system.sleep',
  description: 'Sleeps ms milliseconds in `steps` steps, reporting progress after each.',
  testOnly: true,
  payload: z.strictObject({
    ms: z.int().min(0).max(30_000),
    steps: z.int().min(1).max(50).default(1),
    data: z.json().optional(),
  }),
})

const email = z.email().max(320)

export const emailSendSpec = spec({
  type: 'email.send',
  description:
    'Sends an email through Resend when RESEND_API_KEY is set; otherwise writes it to the outbox.',
  payload: z
    .strictObject({
      to: z.union([email, z.array(email).min(1).max(50)]),
      from: email.optional(),
      subject: z.string().min(1).max(998),
      text: z.string().max(200_000).optional(),
      html: z.string().max(500_000).optional(),
    })
    .refine((p) => p.text !== undefined || p.html !== undefined, {
      message: 'text or html is required',
      path: ['text'],
    }),
})

export const embeddingsBatchSpec = spec({
  type: 'embeddings.batch',
  description: 'Embeds a list of texts on the ml-node in batches, reporting progress per batch.',
  payload: z.strictObject({
    texts: z.array(z.string().min(1).max(20_000)).min(1).max(4096),
    model: z.string().min(1).max(200).optional(),
    batch_size: z.int().min(1).max(256).default(32),
  }),
})

/** What an inbound webhook becomes: the verified event, for the mapped job type. */
export const WebhookEventPayload = z.strictObject({
  source_id: z.uuid(),
  event_id: z.string().min(1).max(500),
  event_type: z.string().max(200),
  body: z.json(),
})
export type WebhookEventPayload = z.output<typeof WebhookEventPayload>

export const webhookReceivedSpec = spec({
  type: 'webhook.received',
  description: 'Records a verified inbound webhook event and returns a summary of it.',
  acceptsWebhooks: true,
  payload: WebhookEventPayload,
})

/** Every job type. The worker must register a handler for each (checked by a test). */
export const JOB_TYPES = [
  systemEchoSpec,
  systemNoopSpec,
  systemFlakySpec,
  systemSleepSpec,
  emailSendSpec,
  embeddingsBatchSpec,
  webhookReceivedSpec,
  workflowRunSpec,
] as const satisfies readonly JobTypeSpec[]

const byType = new Map<string, JobTypeSpec>(JOB_TYPES.map((s) => [s.type, s]))

/** The spec for `type` if it exists and is enabled in this configuration. */
export function getJobType(type: string, includeTestJobs: boolean): JobTypeSpec | undefined {
  const found = byType.get(type)
  if (!found || (found.testOnly && !includeTestJobs)) return undefined
  return found
}

export function listJobTypes(includeTestJobs: boolean): string[] {
  return JOB_TYPES.filter((s) => includeTestJobs || !('testOnly' in s && s.testOnly))
    .map((s) => s.type)
    .sort()
}

export type PayloadCheck =
  | { ok: true; data: unknown }
  | { ok: false; param: string | null; message: string }

/**
 * Validates `payload` for `spec`. On failure names the field at fault (`to.0`, `texts`, or the
 * unknown key) and why; the message never repeats the value.
 */
export function checkPayload(spec: JobTypeSpec, payload: unknown): PayloadCheck {
  const parsed = spec.payload.safeParse(payload)
  if (parsed.success) return { ok: true, data: parsed.data }
  return { ok: false, ...describeIssue(parsed.error) }
}

export function describeIssue(error: z.ZodError): { param: string | null; message: string } {
  const issue = error.issues[0]
  let path = issue ? issue.path.map(String).join('.') : ''
  let reason = issue?.message ?? 'invalid'
  if (issue?.code === 'unrecognized_keys') {
    path = [...issue.path.map(String), ...issue.keys].join('.')
    reason = 'unknown field'
  }
  return { param: path || null, message: `${path || '(payload)'}: ${reason}` }
}
