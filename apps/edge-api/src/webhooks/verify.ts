import type { WebhookScheme } from '@synthstack/db'
import { Webhook, WebhookVerificationError } from 'standardwebhooks'

/** Signatures older or newer than this are refused (replays, clock games). */
export const TOLERANCE_SECONDS = 5 * 60

export interface VerifiedEvent {
  id: string
  type: string
  body: unknown
}

export class SignatureError extends Error {
  constructor(
    readonly code: 'missing_signature' | 'invalid_signature' | 'stale_timestamp',
    message: string,
  ) {
    super(message)
    this.name = 'SignatureError'
  }
}

const hex = (bytes: ArrayBuffer) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('')

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  return hex(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(message)))
}

/** Constant-time comparison of two hex strings. */
function equal(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

function parseJson(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body)
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

const str = (value: unknown) => (typeof value === 'string' ? value : '')

/**
 * Checks a delivery's signature and timestamp for its source's scheme and returns the event id
 * (for replay protection) and type (for the job mapping):
 * - `standard`: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`,
 *   HMAC-SHA256 over `id.timestamp.body`), via the reference `standardwebhooks` package;
 * - `stripe`: `Stripe-Signature: t=…,v1=…`, HMAC-SHA256 hex over `t.body`; id/type from the body;
 * - `github`: `X-Hub-Signature-256: sha256=…` over the body; id `X-GitHub-Delivery`, type
 *   `X-GitHub-Event` (GitHub signs no timestamp: replay protection rests on the delivery id).
 */
export async function verifyWebhook(
  scheme: WebhookScheme,
  secret: string,
  body: string,
  headers: Headers,
  now = Date.now(),
): Promise<VerifiedEvent> {
  if (scheme === 'standard') {
    const id = headers.get('webhook-id')
    const timestamp = headers.get('webhook-timestamp')
    const signature = headers.get('webhook-signature')
    if (!id || !timestamp || !signature) {
      throw new SignatureError(
        'missing_signature',
        'Missing webhook-id, webhook-timestamp or webhook-signature',
      )
    }
    const seconds = Number(timestamp)
    if (!Number.isFinite(seconds) || Math.abs(now / 1000 - seconds) > TOLERANCE_SECONDS) {
      throw new SignatureError(
        'stale_timestamp',
        'Webhook timestamp is outside the 5-minute window',
      )
    }
    try {
      new Webhook(secret).verify(body, {
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': signature,
      })
    } catch (error) {
      if (error instanceof WebhookVerificationError) {
        throw new SignatureError('invalid_signature', 'Invalid webhook signature')
      }
      throw error
    }
    const parsed = parseJson(body)
    return { id, type: str(parsed.type), body: parsed }
  }
  if (scheme === 'stripe') {
    const header = headers.get('stripe-signature')
    if (!header) throw new SignatureError('missing_signature', 'Missing Stripe-Signature')
    const parts = header.split(',').map((p) => p.trim().split('='))
    const t = parts.find(([k]) => k === 't')?.[1]
    const v1 = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '')
    if (!t || v1.length === 0)
      throw new SignatureError('invalid_signature', 'Malformed Stripe-Signature')
    if (!/^\d+$/.test(t) || Math.abs(now / 1000 - Number(t)) > TOLERANCE_SECONDS) {
      throw new SignatureError(
        'stale_timestamp',
        'Webhook timestamp is outside the 5-minute window',
      )
    }
    const expected = await hmacHex(secret, `${t}.${body}`)
    if (!v1.some((candidate) => equal(candidate, expected))) {
      throw new SignatureError('invalid_signature', 'Invalid webhook signature')
    }
    const parsed = parseJson(body)
    const id = str(parsed.id)
    if (!id) throw new SignatureError('invalid_signature', 'Event has no id')
    return { id, type: str(parsed.type), body: parsed }
  }
  const header = headers.get('x-hub-signature-256')
  const id = headers.get('x-github-delivery')
  if (!header || !id) {
    throw new SignatureError(
      'missing_signature',
      'Missing X-Hub-Signature-256 or X-GitHub-Delivery',
    )
  }
  const expected = `sha256=${await hmacHex(secret, body)}`
  if (!equal(header, expected))
    throw new SignatureError('invalid_signature', 'Invalid webhook signature')
  return { id, type: headers.get('x-github-event') ?? '', body: parseJson(body) }
}
