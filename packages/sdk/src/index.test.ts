import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppUnderTest, startAppUnderTest } from '../test/app-under-test'
import { createClient } from './index'

// The SDK against the real app (run in Node here; it is Web-standard) and the real emulators.
let app: AppUnderTest
let viaApp: typeof fetch

beforeAll(async () => {
  app = await startAppUnderTest()
  viaApp = app.fetch
})
afterAll(async () => {
  await app?.close()
})

describe('@synthstack/sdk', () => {
  it('signs up, creates a scoped key and calls as that key, fully typed', async () => {
    const anon = createClient({ baseUrl: 'http://edge.test', fetch: viaApp })
    const email = `sdk-${crypto.randomUUID().slice(0, 8)}@example.com`
    const signup = await anon.v1.auth.signup.$post({
      json: { email, password: 'sdk password 123' },
    })
    expect(signup.status).toBe(201)
    if (signup.status !== 201) return
    const { session, workspace } = await signup.json()

    const owner = createClient({
      baseUrl: 'http://edge.test/',
      token: session.token,
      fetch: viaApp,
    })
    const created = await owner.v1['api-keys'].$post({
      json: { name: 'sdk', scopes: ['embeddings'] },
    })
    expect(created.status).toBe(201)
    if (created.status !== 201) return
    const key = await created.json()
    expect(key.key).toMatch(/^sk_live_/)

    const asKey = createClient({ baseUrl: 'http://edge.test', token: key.key, fetch: viaApp })
    const me = await asKey.v1.me.$get({ header: {} })
    expect(me.status).toBe(200)
    if (me.status !== 200) return
    const body = await me.json()
    expect(body.workspace.id).toBe(workspace.id)
    expect(body.scopes).toEqual(['embeddings'])

    const denied = await asKey.v1['api-keys'].$get({ query: {} })
    expect(denied.status).toBe(403)
    const error = (await denied.json()) as unknown as { error: { code: string } }
    expect(error.error.code).toBe('missing_scope')
  })
})
