import { createExecutionContext, env, SELF, waitOnExecutionContext } from 'cloudflare:test'
import { createDb } from '@synthstack/db'
import type { Env } from '../src/env'
import type { ErrorBody } from '../src/errors'
import worker from '../src/index'

export const BASE = 'http://edge.test'
export const ORIGIN = 'http://localhost:3050'

export interface Call {
  res: Response
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON bodies loosely
  body: any
}

export type Fetcher = (path: string, init?: RequestInit) => Promise<Response>

/** The worker under test, as the tests' default fetcher. */
export const selfFetch: Fetcher = (path, init) => SELF.fetch(`${BASE}${path}`, init)

/**
 * A fetcher that runs the worker with changed bindings (one env object, so the config is
 * parsed once), waiting for its `waitUntil` work after each response.
 */
export function fetcherWith(changes: Partial<Env>, base = BASE): Fetcher {
  const bindings = { ...env, ...changes } as Env
  return async (path, init) => {
    const ctx = createExecutionContext()
    const res = await worker.fetch(new Request(`${base}${path}`, init), bindings, ctx)
    await waitOnExecutionContext(ctx)
    return res
  }
}

export async function call(
  path: string,
  init: RequestInit & { json?: unknown; token?: string; cookie?: string } = {},
  fetcher: Fetcher = selfFetch,
): Promise<Call> {
  const headers = new Headers(init.headers)
  if (init.json !== undefined) headers.set('Content-Type', 'application/json')
  if (init.token) headers.set('Authorization', `Bearer ${init.token}`)
  if (init.cookie) headers.set('Cookie', `ss_session=${init.cookie}`)
  const { json, token, cookie, ...rest } = init
  const res = await fetcher(path, {
    ...rest,
    headers,
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  })
  const text = await res.text()
  let body: unknown = text
  try {
    body = text ? JSON.parse(text) : null
  } catch {
    // not JSON
  }
  return { res, status: res.status, body }
}

export const errorOf = (c: Call) => (c.body as ErrorBody).error

export const uniqueEmail = (tag = 'user') => `${tag}-${crypto.randomUUID().slice(0, 8)}@example.com`

export const PASSWORD = 'correct horse battery staple'

export interface Account {
  email: string
  userId: string
  workspaceId: string
  token: string
}

export async function signup(
  tag = 'user',
  extra: Record<string, unknown> = {},
  fetcher: Fetcher = selfFetch,
): Promise<Account> {
  const email = uniqueEmail(tag)
  const r = await call(
    '/v1/auth/signup',
    { method: 'POST', json: { email, password: PASSWORD, ...extra } },
    fetcher,
  )
  if (r.status !== 201) throw new Error(`signup failed: ${r.status} ${JSON.stringify(r.body)}`)
  return {
    email,
    userId: r.body.user.id,
    workspaceId: r.body.workspace.id,
    token: r.body.session.token,
  }
}

export async function createKey(
  token: string,
  scopes: string[],
  fetcher: Fetcher = selfFetch,
  headers: Record<string, string> = {},
): Promise<{ id: string; key: string; prefix: string }> {
  const r = await call(
    '/v1/api-keys',
    { method: 'POST', token, headers, json: { name: `key ${scopes.join(' ')}`, scopes } },
    fetcher,
  )
  if (r.status !== 201) throw new Error(`create key failed: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

export const testDb = () =>
  createDb({
    DATABASE_URL: env.DATABASE_URL as string,
    NEON_EMULATOR_URL: env.NEON_EMULATOR_URL,
  })

/** Polls until `check` returns a value (metering is written after the response). */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 25))
  }
}

/**
 * Waits until at least `roomMs` remain in the current one-minute rate-limit window. A sliding
 * window weighs the previous window's count by the time left in it, so a burst that straddles
 * a minute boundary may rightly admit one more request; exact-count tests must not straddle one.
 */
export async function awaitRateLimitWindowRoom(roomMs = 10_000, windowMs = 60_000) {
  const left = windowMs - (Date.now() % windowMs)
  if (left < roomMs) await new Promise((resolve) => setTimeout(resolve, left + 50))
}
