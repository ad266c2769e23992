import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { signDelivery } from '../../test/support/qstash-token'
import { readBodyLimited, signedUrl } from './verify-qstash'

const BASE = 'http://jobs.test'
const URL_ECHO = `${BASE}/jobs/system.echo`
const BODY = JSON.stringify({ message: 'hello' })

function post(url: string, body: string, headers: Record<string, string> = {}) {
  return exports.default.fetch(
    new Request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    }),
  )
}

async function expectUnauthorized(response: Response, code: string) {
  expect(response.status).toBe(401)
  expect(response.headers.get('upstash-nonretryable-error')).toBeNull()
  const json = (await response.json()) as { error: Record<string, string> }
  expect(json.error).toMatchObject({ type: 'authentication_error', code })
  expect(json.error.request_id).toMatch(/\S/)
  expect(JSON.stringify(json)).not.toContain(env.QSTASH_CURRENT_SIGNING_KEY)
}

describe('verify-qstash middleware (workerd)', () => {
  it('accepts a delivery signed with the current key, and hands the verified body on', async () => {
    const token = await signDelivery({
      url: URL_ECHO,
      body: BODY,
      key: env.QSTASH_CURRENT_SIGNING_KEY,
    })
    const response = await post(URL_ECHO, BODY, { 'upstash-signature': token })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ result: { message: 'hello' } })
  })

  it('accepts a delivery signed with the next key (key rotation)', async () => {
    const token = await signDelivery({
      url: URL_ECHO,
      body: BODY,
      key: env.QSTASH_NEXT_SIGNING_KEY,
    })
    const response = await post(URL_ECHO, BODY, { 'upstash-signature': token })
    expect(response.status).toBe(200)
  })

  it('rejects a request without a signature', async () => {
    await expectUnauthorized(await post(URL_ECHO, BODY), 'missing_signature')
  })

  it('rejects a token signed with another key', async () => {
    const token = await signDelivery({
      url: URL_ECHO,
      body: BODY,
      key: 'sig_not_the_right_key_at_all',
    })
    await expectUnauthorized(
      await post(URL_ECHO, BODY, { 'upstash-signature': token }),
      'invalid_signature',
    )
  })

  it('rejects a tampered body', async () => {
    const token = await signDelivery({
      url: URL_ECHO,
      body: BODY,
      key: env.QSTASH_CURRENT_SIGNING_KEY,
    })
    const tampered = JSON.stringify({ message: 'hellO' })
    await expectUnauthorized(
      await post(URL_ECHO, tampered, { 'upstash-signature': token }),
      'invalid_signature',
    )
  })

  it('rejects an expired token', async () => {
    const token = await signDelivery({
      url: URL_ECHO,
      body: BODY,
      key: env.QSTASH_CURRENT_SIGNING_KEY,
      expiresIn: -30,
    })
    await expectUnauthorized(
      await post(URL_ECHO, BODY, { 'upstash-signature': token }),
      'invalid_signature',
    )
  })

  it('rejects a token signed for another URL (other type, other host, extra query)', async () => {
    for (const signedFor of [
      `${BASE}/jobs/system.flaky`,
      'http://elsewhere.test/jobs/system.echo',
      `${URL_ECHO}?x=1`,
    ]) {
      const token = await signDelivery({
        url: signedFor,
        body: BODY,
        key: env.QSTASH_CURRENT_SIGNING_KEY,
      })
      await expectUnauthorized(
        await post(URL_ECHO, BODY, { 'upstash-signature': token }),
        'invalid_signature',
      )
    }
  })

  it('rejects a token from another issuer and a garbage token', async () => {
    const token = await signDelivery({
      url: URL_ECHO,
      body: BODY,
      key: env.QSTASH_CURRENT_SIGNING_KEY,
      issuer: 'Someone',
    })
    await expectUnauthorized(
      await post(URL_ECHO, BODY, { 'upstash-signature': token }),
      'invalid_signature',
    )
    await expectUnauthorized(
      await post(URL_ECHO, BODY, { 'upstash-signature': 'not.a.jwt' }),
      'invalid_signature',
    )
  })

  it('guards every route but GET /health, including unknown ones', async () => {
    await expectUnauthorized(await post(`${BASE}/nowhere`, BODY), 'missing_signature')
    await expectUnauthorized(await post(`${BASE}/health`, BODY), 'missing_signature')
    const health = await exports.default.fetch(new Request(`${BASE}/health`))
    expect(health.status).toBe(200)
  })

  it('refuses a body over JOBS_MAX_BODY_BYTES as non-retryable', async () => {
    const big = JSON.stringify({ message: 'x'.repeat(5000) })
    const token = await signDelivery({
      url: URL_ECHO,
      body: big,
      key: env.QSTASH_CURRENT_SIGNING_KEY,
    })
    const response = await post(URL_ECHO, big, { 'upstash-signature': token })
    expect(response.status).toBe(489)
    expect(response.headers.get('upstash-nonretryable-error')).toBe('true')
    expect(await response.json()).toMatchObject({ error: { code: 'payload_too_large' } })
  })
})

describe('signedUrl', () => {
  it('uses the request URL as-is without a public base', () => {
    expect(signedUrl('http://127.0.0.1:3004/jobs/a.b?x=1')).toBe(
      'http://127.0.0.1:3004/jobs/a.b?x=1',
    )
  })

  it('rebuilds the URL on JOBS_PUBLIC_URL, keeping path and query, with any prefix', () => {
    expect(signedUrl('http://10.0.0.5:8787/jobs/a.b?x=1', 'https://jobs.example.com')).toBe(
      'https://jobs.example.com/jobs/a.b?x=1',
    )
    expect(signedUrl('http://internal/jobs/a.b', 'https://api.example.com/worker/')).toBe(
      'https://api.example.com/worker/jobs/a.b',
    )
  })
})

describe('readBodyLimited', () => {
  const streamOf = (...parts: string[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(new TextEncoder().encode(part))
        controller.close()
      },
    })
  const request = (body: BodyInit, headers: Record<string, string> = {}) =>
    new Request('http://jobs.test/x', { method: 'POST', body, headers })
  const code = (promise: Promise<unknown>) =>
    promise.then(
      () => 'read',
      (error: { code?: string }) => error.code,
    )

  it('reads a body whose declared size is within the limit', async () => {
    expect(await readBodyLimited(request('{"a":"é"}', { 'content-length': '10' }), 10)).toBe(
      '{"a":"é"}',
    )
  })

  it('refuses a declared size over the limit', async () => {
    expect(
      await code(readBodyLimited(request('x'.repeat(11), { 'content-length': '11' }), 10)),
    ).toBe('payload_too_large')
  })

  it('streams a body of undeclared size, refusing it once it passes the limit', async () => {
    expect(await readBodyLimited(request(streamOf('{"a":', '1}')), 10)).toBe('{"a":1}')
    expect(await code(readBodyLimited(request(streamOf('x'.repeat(6), 'x'.repeat(6))), 10))).toBe(
      'payload_too_large',
    )
  })
})
