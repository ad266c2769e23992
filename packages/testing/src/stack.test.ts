import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { neon } from '@neondatabase/serverless'
import { applyNeonEnv } from '@synthstack/db'
import { Client, Receiver } from '@upstash/qstash'
import { Redis } from '@upstash/redis'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestStack, type TestStack } from './stack'

let stack: TestStack

beforeAll(async () => {
  stack = await startTestStack({ qstashTimeScale: 0.001 })
})
afterAll(async () => {
  await stack?.close()
})

describe('startTestStack', () => {
  it('returns every Worker binding', () => {
    expect(Object.keys(stack.env).sort()).toEqual([
      'DATABASE_URL',
      'NEON_EMULATOR_URL',
      'QSTASH_CURRENT_SIGNING_KEY',
      'QSTASH_NEXT_SIGNING_KEY',
      'QSTASH_TOKEN',
      'QSTASH_URL',
      'UPSTASH_REDIS_REST_TOKEN',
      'UPSTASH_REDIS_REST_URL',
    ])
    for (const key of ['NEON_EMULATOR_URL', 'UPSTASH_REDIS_REST_URL', 'QSTASH_URL'] as const) {
      expect(stack.env[key]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    }
  })

  it('serves a migrated database through the Neon emulator', async () => {
    applyNeonEnv(stack.env)
    const sql = neon(stack.env.DATABASE_URL)
    const rows = await sql.query("select to_regclass('public.workspaces') as t")
    expect(rows[0]?.t).toBe('workspaces')
  })

  it('serves Upstash Redis over REST', async () => {
    const redis = new Redis({
      url: stack.env.UPSTASH_REDIS_REST_URL,
      token: stack.env.UPSTASH_REDIS_REST_TOKEN,
      enableTelemetry: false,
    })
    const key = `stack-test:${crypto.randomUUID()}`
    await redis.set(key, { hello: 'world' }, { ex: 30 })
    expect(await redis.get(key)).toEqual({ hello: 'world' })
    await redis.del(key)
  })

  it('delivers signed QStash messages with the configured time scale', async () => {
    const received: { body: string; signature: string; at: number }[] = []
    const server = createServer((req: IncomingMessage, res) => {
      let body = ''
      req.on('data', (chunk) => {
        body += chunk
      })
      req.on('end', () => {
        received.push({
          body,
          signature: String(req.headers['upstash-signature']),
          at: performance.now(),
        })
        res.end('ok')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
    try {
      const client = new Client({
        baseUrl: stack.env.QSTASH_URL,
        token: stack.env.QSTASH_TOKEN,
        enableTelemetry: false,
      })
      const sent = performance.now()
      // 60 s of QStash time at scale 0.001 is 60 ms of real time.
      await client.publishJSON({ url, body: { n: 1 }, delay: 60 })
      const deadline = Date.now() + 5000
      while (received.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20))
      }
      expect(received).toHaveLength(1)
      const [message] = received
      expect(JSON.parse(message?.body ?? '')).toEqual({ n: 1 })
      expect((message?.at ?? 0) - sent).toBeGreaterThanOrEqual(40)
      const receiver = new Receiver({
        currentSigningKey: stack.env.QSTASH_CURRENT_SIGNING_KEY,
        nextSigningKey: stack.env.QSTASH_NEXT_SIGNING_KEY,
      })
      expect(
        await receiver.verify({
          signature: message?.signature ?? '',
          body: message?.body ?? '',
          url,
        }),
      ).toBe(true)
    } finally {
      server.close()
    }
  })
})

describe('startTestStack failures and cleanup', () => {
  it('rejects a bad backend variable before starting anything, naming it', async () => {
    await expect(startTestStack({ env: { NEON_EMULATOR_BACKEND: 'mysql' } })).rejects.toThrow(
      /NEON_EMULATOR_BACKEND/,
    )
  })

  it('closes every emulator (and drops its database on the postgres backend)', async () => {
    const env = { ...process.env }
    const postgres = env.NEON_EMULATOR_BACKEND === 'postgres'
    // The embedded Neon backend is slow to start; the postgres one shows the database drop.
    const own = await startTestStack({ env, migrate: false })
    const urls = [own.env.NEON_EMULATOR_URL, own.env.UPSTASH_REDIS_REST_URL, own.env.QSTASH_URL]
    const database = new URL(own.env.DATABASE_URL).pathname.slice(1)
    await own.close()
    for (const url of urls) {
      await expect(fetch(url)).rejects.toThrow()
    }
    if (postgres) {
      expect(database).toMatch(/^synthstack_test_/)
      const admin = new pg.Client({
        connectionString:
          env.NEON_EMULATOR_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      })
      await admin.connect()
      try {
        const found = await admin.query('select 1 from pg_database where datname = $1', [database])
        expect(found.rowCount).toBe(0)
      } finally {
        await admin.end()
      }
    }
  })
})
