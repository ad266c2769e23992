import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startQStashEmulator } from '@synthstack/emulator-qstash'
import { startWranglerDev, type WranglerDev } from '@synthstack/testing'
import { Client, Receiver } from '@upstash/qstash'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ReceivedCall, startCallbackServer } from './support/callback-server'
import { signDelivery } from './support/qstash-token'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')

// End to end, all real: the worker under `wrangler dev` (workerd), the QStash emulator, the
// official @upstash/qstash Client publishing, and a node:http server receiving QStash callbacks.

interface CallbackBody {
  status: number
  header: Record<string, unknown>
  body: string
  retried: number
  sourceMessageId: string
  url: string
}

let emulator: Awaited<ReturnType<typeof startQStashEmulator>>
let worker: WranglerDev
let callbacks: Awaited<ReturnType<typeof startCallbackServer>>
let client: Client
let receiver: Receiver
let dataDir: string

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'jobs-qstash-'))
  // Keys differ from the public dev keys, so the worker really checks what it was configured with.
  ;[emulator, callbacks] = await Promise.all([
    startQStashEmulator({
      port: 0,
      dataDir,
      timeScale: 0.01,
      currentSigningKey: 'sig_e2e_current_5e3d0f6a',
      nextSigningKey: 'sig_e2e_next_9b1c2d7e',
    }),
    startCallbackServer(),
  ])
  worker = await startWranglerDev({
    packageDir,
    config: join(packageDir, 'wrangler.toml'),
    cwd: packageDir,
    readyPath: '/health',
    vars: {
      ENVIRONMENT: 'test',
      QSTASH_CURRENT_SIGNING_KEY: emulator.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: emulator.nextSigningKey,
      JOBS_ENABLE_TEST_JOBS: 'true',
    },
  })
  client = new Client({ baseUrl: emulator.url, token: emulator.token })
  receiver = new Receiver({
    currentSigningKey: emulator.currentSigningKey,
    nextSigningKey: emulator.nextSigningKey,
  })
})

afterAll(async () => {
  await Promise.allSettled([worker?.close(), emulator?.close(), callbacks?.close()])
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

/** Parses a QStash callback, checking its own signature (sub = the callback URL). */
async function readCallback(call: ReceivedCall): Promise<CallbackBody> {
  const signature = call.headers['upstash-signature']
  expect(typeof signature).toBe('string')
  await receiver.verify({
    signature: String(signature),
    body: call.body,
    url: `${callbacks.url}${call.path}`,
  })
  return JSON.parse(call.body) as CallbackBody
}

function decode(base64: string): unknown {
  return JSON.parse(Buffer.from(base64, 'base64').toString('utf8'))
}

/** The first callback on `path` about `messageId` (with `status`, when given). */
function callbackFor(messageId: string, path: string, status?: number) {
  return callbacks.waitFor((call) => {
    if (!call.path.startsWith(path)) return false
    try {
      const body = JSON.parse(call.body) as CallbackBody
      return body.sourceMessageId === messageId && (status === undefined || body.status === status)
    } catch {
      return false
    }
  })
}

describe('jobs worker behind QStash (wrangler dev + emulator)', () => {
  it('runs system.echo published with the official client; the result reaches the callback', async () => {
    const { messageId } = await client.publishJSON({
      url: `${worker.url}/jobs/system.echo`,
      body: { message: 'hello from e2e', data: { n: 1 } },
      callback: `${callbacks.url}/success`,
      failureCallback: `${callbacks.url}/failure`,
    })
    const callback = await readCallback(await callbackFor(messageId, '/success'))
    expect(callback.status).toBe(200)
    expect(callback.retried).toBe(0)
    expect(decode(callback.body)).toEqual({
      type: 'system.echo',
      message_id: messageId,
      retried: 0,
      result: { message: 'hello from e2e', data: { n: 1 } },
    })
  })

  it('retries a handler that fails once; the second attempt succeeds', async () => {
    const { messageId } = await client.publishJSON({
      url: `${worker.url}/jobs/system.flaky`,
      body: { fail_times: 1, data: 'second time lucky' },
      retries: 3,
      callback: `${callbacks.url}/success`,
      failureCallback: `${callbacks.url}/failure`,
    })
    // QStash calls the callback after every attempt: first the 500, then the 200.
    const failed = await readCallback(await callbackFor(messageId, '/success', 500))
    expect(failed.retried).toBe(0)
    expect(decode(failed.body)).toMatchObject({ error: { type: 'job_error', code: 'job_failed' } })
    const callback = await readCallback(await callbackFor(messageId, '/success', 200))
    expect(callback.retried).toBe(1)
    expect(decode(callback.body)).toMatchObject({
      retried: 1,
      result: { attempts: 2, data: 'second time lucky' },
    })
    expect(
      callbacks.calls.some(
        (call) => call.path.startsWith('/failure') && call.body.includes(messageId),
      ),
    ).toBe(false)
  })

  it('answers an unknown job type with 489 + Upstash-NonRetryable-Error; it lands in the DLQ', async () => {
    // QStash stops retrying on this answer, so with three retries allowed there is one attempt.
    const { messageId } = await client.publishJSON({
      url: `${worker.url}/jobs/system.unknown`,
      body: {},
      retries: 3,
      failureCallback: `${callbacks.url}/failure`,
    })
    const callback = await readCallback(await callbackFor(messageId, '/failure'))
    expect(callback.status).toBe(489)
    expect(callback.retried).toBe(0)
    expect(JSON.stringify(callback.header).toLowerCase()).toContain('upstash-nonretryable-error')
    expect(decode(callback.body)).toMatchObject({ error: { code: 'unknown_job_type' } })
    const dlq = await client.dlq.listMessages()
    expect(dlq.messages.some((message) => message.messageId === messageId)).toBe(true)
  })

  it('answers 401 to an unsigned request and to one signed with a key it does not hold', async () => {
    const url = `${worker.url}/jobs/system.echo`
    const body = JSON.stringify({ message: 'x' })
    const unsigned = await fetch(url, { method: 'POST', body })
    expect(unsigned.status).toBe(401)
    const forged = await signDelivery({ url, body, key: 'sig_attacker_key_000000' })
    const wrongKey = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'upstash-signature': forged },
    })
    expect(wrongKey.status).toBe(401)
    expect(await wrongKey.json()).toMatchObject({
      error: { type: 'authentication_error', code: 'invalid_signature' },
    })
  })
})
