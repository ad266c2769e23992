import { Receiver } from '@upstash/qstash'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env'
import { JobsError } from '../errors'
import { redact } from '../redact'

/**
 * The URL QStash signed (the token's `sub` claim is the destination URL of the publish).
 *
 * Without `publicUrl` the URL the request arrived at is used as-is: right for `wrangler dev`
 * and for a Worker reached directly on its route or custom domain, where `request.url` is the
 * public URL. Behind a proxy that rewrites host, scheme or path (a tunnel, a gateway that strips
 * a prefix), set `JOBS_PUBLIC_URL` to the public base QStash is given, e.g.
 * `https://api.example.com/worker`; the expected URL is then that base + the request's path and
 * query. `X-Forwarded-*` headers are never trusted: anyone can send them.
 */
export function signedUrl(requestUrl: string, publicUrl?: string): string {
  if (!publicUrl) return requestUrl
  const incoming = new URL(requestUrl)
  const base = new URL(publicUrl)
  const prefix = base.pathname.replace(/\/+$/, '')
  return `${base.origin}${prefix}${incoming.pathname}${incoming.search}`
}

/**
 * Reads the body once, up to `maxBytes`. Rejects a declared or actual size over the limit
 * before buffering it all.
 */
export async function readBodyLimited(request: Request, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new JobsError(`Request body exceeds ${maxBytes} bytes`, {
      status: 413,
      type: 'invalid_request_error',
      code: 'payload_too_large',
      nonRetryable: true,
    })
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge()
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      throw tooLarge()
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return new TextDecoder().decode(bytes)
}

function unauthorized(code: string, message: string): JobsError {
  return new JobsError(message, { status: 401, type: 'authentication_error', code })
}

/**
 * Accepts only requests signed by QStash: `Upstash-Signature` must be an HS256 JWT from
 * issuer "Upstash", signed with the current or the next signing key, not expired, whose `sub` is
 * this request's URL (see `signedUrl`) and whose `body` claim is the SHA-256 of the body.
 * The verified raw body is stored as `rawBody`; handlers parse that, never the stream.
 * Failures answer 401 (retryable on purpose: a key or URL misconfiguration, once fixed, lets
 * QStash's retries deliver the message).
 */
export function verifyQStash(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const config = c.get('config')
    const signature = c.req.header('Upstash-Signature')
    if (!signature) throw unauthorized('missing_signature', 'Missing Upstash-Signature header')

    const body = await readBodyLimited(c.req.raw, config.JOBS_MAX_BODY_BYTES)
    const receiver = new Receiver({
      currentSigningKey: config.QSTASH_CURRENT_SIGNING_KEY,
      nextSigningKey: config.QSTASH_NEXT_SIGNING_KEY,
      devMode: false,
    })
    const url = signedUrl(c.req.url, config.JOBS_PUBLIC_URL)
    try {
      await receiver.verify({
        signature,
        body,
        url,
        clockTolerance: config.QSTASH_CLOCK_TOLERANCE_SECONDS,
      })
    } catch (error) {
      // The reason (expired, wrong subject, body hash) helps operators; the caller gets a
      // fixed message. The reason holds URLs and hashes, never a key.
      console.warn(
        JSON.stringify({
          level: 'warn',
          msg: 'rejected QStash signature',
          request_id: c.get('requestId'),
          expected_url: url,
          reason: redact(error instanceof Error ? error.message : String(error), config),
        }),
      )
      throw unauthorized('invalid_signature', 'Invalid Upstash-Signature')
    }

    c.set('rawBody', body)
    const retried = Number.parseInt(c.req.header('Upstash-Retried') ?? '0', 10)
    c.set('delivery', {
      messageId: c.req.header('Upstash-Message-Id') ?? null,
      retried: Number.isFinite(retried) && retried >= 0 ? retried : 0,
    })
    await next()
  }
}
