import { emailSendSpec } from '@synthstack/jobs'
import { sqlFor } from '../../store/db'
import { defineJob, PermanentJobError, RetryLaterError } from '../types'

const DEFAULT_FROM = 'SynthStack <noreply@synthstack.dev>'

/**
 * Sends through Resend's HTTP API when `RESEND_API_KEY` is set (idempotency key = job id, so a
 * retried attempt never sends twice), else writes the mail to the `email_outbox` table, readable
 * at `GET /v1/outbox`. Either way one outbox row per job records what went out.
 */
export const emailSend = defineJob(emailSendSpec, async (payload, ctx) => {
  if (!ctx.jobId || !ctx.workspaceId) {
    throw new PermanentJobError('email.send runs only as a job record (enqueue via /v1/jobs)')
  }
  const to = Array.isArray(payload.to) ? payload.to : [payload.to]
  const from = payload.from ?? ctx.config.EMAIL_FROM ?? DEFAULT_FROM
  let provider: 'outbox' | 'resend' = 'outbox'
  let providerId: string | null = null
  if (ctx.config.RESEND_API_KEY) {
    provider = 'resend'
    const response = await fetch(`${ctx.config.RESEND_API_URL}/emails`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ctx.config.RESEND_API_KEY}`,
        'content-type': 'application/json',
        'idempotency-key': `job-${ctx.jobId}`,
      },
      body: JSON.stringify({
        from,
        to,
        subject: payload.subject,
        ...(payload.text !== undefined && { text: payload.text }),
        ...(payload.html !== undefined && { html: payload.html }),
      }),
    })
    if (response.status === 429 || response.status >= 500) {
      const after = Number(response.headers.get('retry-after') ?? '')
      await response.body?.cancel()
      throw new RetryLaterError(`Resend answered ${response.status}`, after > 0 ? after : 30)
    }
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { message?: string }
      throw new PermanentJobError(
        `Resend refused the email (${response.status}): ${String(body.message ?? '').slice(0, 200)}`,
      )
    }
    providerId = ((await response.json()) as { id?: string }).id ?? null
  }
  const [row] = (await sqlFor(ctx.config).query(
    `insert into email_outbox (workspace_id, job_id, "to", "from", subject, text, html, provider, provider_id)
     values ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9)
     on conflict (job_id) do update set provider_id = coalesce(excluded.provider_id, email_outbox.provider_id)
     returning id`,
    [
      ctx.workspaceId,
      ctx.jobId,
      JSON.stringify(to),
      from,
      payload.subject,
      payload.text ?? null,
      payload.html ?? null,
      provider,
      providerId,
    ],
  )) as { id: string }[]
  return { email_id: row?.id ?? null, provider, provider_id: providerId, to }
})
