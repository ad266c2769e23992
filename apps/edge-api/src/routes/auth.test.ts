import { sessions, sql } from '@synthstack/db'
import { describe, expect, it } from 'vitest'
import {
  call,
  errorOf,
  fetcherWith,
  ORIGIN,
  PASSWORD,
  signup,
  testDb,
  uniqueEmail,
} from '../../test/helpers'
import { sha256Hex } from '../auth/crypto'

const cookieOf = (res: Response) => {
  const header = res.headers.get('Set-Cookie') ?? ''
  return { header, value: /ss_session=([^;]*)/.exec(header)?.[1] }
}

describe('POST /v1/auth/signup', () => {
  it('creates the user, an owned workspace and a session (cookie and token)', async () => {
    const email = uniqueEmail('Signup')
    const r = await call('/v1/auth/signup', {
      method: 'POST',
      json: { email: `  ${email.toUpperCase()} `, password: PASSWORD, name: 'Ada' },
    })
    expect(r.status).toBe(201)
    expect(r.body.user).toMatchObject({ email: email.toLowerCase(), name: 'Ada' })
    expect(r.body.workspace).toMatchObject({ name: "Ada's workspace", plan: 'free' })
    expect(r.body.role).toBe('owner')
    expect(r.body.session.token).toMatch(/^ss_[A-Za-z0-9_-]{43}$/)
    const cookie = cookieOf(r.res)
    expect(cookie.value).toBe(r.body.session.token)
    expect(cookie.header).toMatch(/HttpOnly/)
    expect(cookie.header).toMatch(/Secure/)
    expect(cookie.header).toMatch(/SameSite=Lax/)
    expect(cookie.header).toMatch(/Path=\//)
    // Only the hash is stored.
    const rows = await testDb()
      .select()
      .from(sessions)
      .where(sql`${sessions.userId} = ${r.body.user.id}`)
    expect(rows).toHaveLength(1)
    expect(rows[0]?.tokenHash).toBe(await sha256Hex(r.body.session.token))
    expect(JSON.stringify(rows)).not.toContain(r.body.session.token)
  })

  it('omits Secure only for plain-http localhost', async () => {
    const res = await fetcherWith({})('/v1/auth/signup', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }),
    })
    expect(cookieOf(res).header).toMatch(/Secure/)
    const local = await fetcherWith({}, 'http://localhost:3003')('/v1/auth/signup', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }),
    })
    expect(local.status).toBe(201)
    expect(cookieOf(local).header).toMatch(/HttpOnly/)
    expect(cookieOf(local).header).not.toMatch(/Secure/)
  })

  it('refuses a second account for the same (normalised) email with 409', async () => {
    const a = await signup('dupe')
    const r = await call('/v1/auth/signup', {
      method: 'POST',
      json: { email: a.email.toUpperCase(), password: PASSWORD },
    })
    expect(r.status).toBe(409)
    expect(errorOf(r)).toMatchObject({ code: 'email_taken', param: 'email' })
  })

  it.each([
    [{ password: PASSWORD }, 'email'],
    [{ email: 'not-an-email', password: PASSWORD }, 'email'],
    [{ email: uniqueEmail(), password: 'short' }, 'password'],
    [{ email: uniqueEmail(), password: PASSWORD, name: '' }, 'name'],
    [{ email: uniqueEmail(), password: PASSWORD, workspace_name: 7 }, 'workspace_name'],
  ])('answers 400 naming the field for %j', async (json, param) => {
    const r = await call('/v1/auth/signup', { method: 'POST', json })
    expect(r.status).toBe(400)
    expect(errorOf(r)).toMatchObject({ type: 'invalid_request_error', param })
    expect(JSON.stringify(r.body)).not.toContain(PASSWORD)
  })

  it('refuses a sign-up posted from a foreign Origin (login CSRF)', async () => {
    const r = await call('/v1/auth/signup', {
      method: 'POST',
      headers: { Origin: 'https://evil.example' },
      json: { email: uniqueEmail(), password: PASSWORD },
    })
    expect(r.status).toBe(403)
    expect(errorOf(r).code).toBe('csrf_origin_mismatch')
  })
})

describe('POST /v1/auth/login', () => {
  it('signs in with the right password and refuses a wrong one alike for unknown emails', async () => {
    const a = await signup('login')
    const ok = await call('/v1/auth/login', {
      method: 'POST',
      headers: { Origin: ORIGIN },
      json: { email: a.email, password: PASSWORD },
    })
    expect(ok.status).toBe(200)
    expect(ok.body.workspace.id).toBe(a.workspaceId)
    expect(ok.body.session.token).not.toBe(a.token)
    expect(cookieOf(ok.res).value).toBe(ok.body.session.token)

    const wrong = await call('/v1/auth/login', {
      method: 'POST',
      json: { email: a.email, password: 'wrong password!' },
    })
    const unknown = await call('/v1/auth/login', {
      method: 'POST',
      json: { email: uniqueEmail('nobody'), password: 'wrong password!' },
    })
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401)
      expect(errorOf(r)).toMatchObject({
        code: 'invalid_credentials',
        message: 'Wrong email or password.',
      })
    }
  })

  it('answers 400 naming the field', async () => {
    const r = await call('/v1/auth/login', { method: 'POST', json: { email: 'a@b.co' } })
    expect(r.status).toBe(400)
    expect(errorOf(r).param).toBe('password')
    const bad = await call('/v1/auth/login', {
      method: 'POST',
      json: { email: 'a@b.co', password: 'x', workspace_id: 'nope' },
    })
    expect(errorOf(bad).param).toBe('workspace_id')
  })

  it('slows repeated failures down per account, with Retry-After, even for the right password', async () => {
    const a = await signup('throttle')
    const fetcher = fetcherWith({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' })
    for (let i = 0; i < 3; i++) {
      const r = await call(
        '/v1/auth/login',
        { method: 'POST', json: { email: a.email, password: `bad-${i}-password` } },
        fetcher,
      )
      expect(r.status).toBe(401)
    }
    const blocked = await call(
      '/v1/auth/login',
      { method: 'POST', json: { email: a.email, password: PASSWORD } },
      fetcher,
    )
    expect(blocked.status).toBe(429)
    expect(errorOf(blocked).code).toBe('too_many_login_attempts')
    const retryAfter = Number(blocked.res.headers.get('Retry-After'))
    expect(retryAfter).toBeGreaterThan(800)
    expect(retryAfter).toBeLessThanOrEqual(900)
    // Another account from another IP is not affected.
    const b = await signup('throttle-b')
    const other = await call(
      '/v1/auth/login',
      {
        method: 'POST',
        headers: { 'CF-Connecting-IP': '198.51.100.7' },
        json: { email: b.email, password: PASSWORD },
      },
      fetcher,
    )
    expect(other.status).toBe(200)
  })

  it('slows repeated failures down per IP across accounts', async () => {
    const fetcher = fetcherWith({ LOGIN_MAX_FAILURES_PER_IP: '4' })
    const ip = `203.0.113.${Math.floor(Math.random() * 200) + 1}`
    const victim = await signup('ip')
    for (let i = 0; i < 4; i++) {
      const r = await call(
        '/v1/auth/login',
        {
          method: 'POST',
          headers: { 'CF-Connecting-IP': ip },
          json: { email: uniqueEmail('spray'), password: 'guess-password' },
        },
        fetcher,
      )
      expect(r.status).toBe(401)
    }
    const blocked = await call(
      '/v1/auth/login',
      {
        method: 'POST',
        headers: { 'CF-Connecting-IP': ip },
        json: { email: victim.email, password: PASSWORD },
      },
      fetcher,
    )
    expect(blocked.status).toBe(429)
    const elsewhere = await call(
      '/v1/auth/login',
      {
        method: 'POST',
        headers: { 'CF-Connecting-IP': '198.51.100.9' },
        json: { email: victim.email, password: PASSWORD },
      },
      fetcher,
    )
    expect(elsewhere.status).toBe(200)
  })

  it('fails closed (503) when Redis is unreachable', async () => {
    const a = await signup('closed')
    const r = await call(
      '/v1/auth/login',
      { method: 'POST', json: { email: a.email, password: PASSWORD } },
      fetcherWith({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1' }),
    )
    expect(r.status).toBe(503)
    expect(errorOf(r).code).toBe('login_unavailable')
  })
})

describe('GET /v1/me and POST /v1/auth/logout', () => {
  it('knows the caller by cookie or bearer token; logout ends the session', async () => {
    const a = await signup('me', { name: 'Grace' })
    const byCookie = await call('/v1/me', { cookie: a.token })
    expect(byCookie.status).toBe(200)
    expect(byCookie.body).toMatchObject({
      user: { id: a.userId, email: a.email, name: 'Grace' },
      workspace: { id: a.workspaceId },
      role: 'owner',
      auth_method: 'session_cookie',
      api_key_id: null,
    })
    expect(byCookie.body.scopes).toContain('admin')
    expect(byCookie.res.headers.get('RateLimit-Limit')).toBe('60')
    const byBearer = await call('/v1/me', { token: a.token })
    expect(byBearer.body.auth_method).toBe('session_bearer')

    const out = await call('/v1/auth/logout', { method: 'POST', token: a.token })
    expect(out.status).toBe(204)
    expect(out.res.headers.get('Set-Cookie')).toMatch(/ss_session=;/)
    const after = await call('/v1/me', { token: a.token })
    expect(after.status).toBe(401)
    expect(errorOf(after).code).toBe('invalid_session')
  })

  it('refuses an expired session with session_expired', async () => {
    const a = await signup('expired')
    await testDb()
      .update(sessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(sql`${sessions.tokenHash} = ${await sha256Hex(a.token)}`)
    const r = await call('/v1/me', { token: a.token })
    expect(r.status).toBe(401)
    expect(errorOf(r)).toMatchObject({ type: 'authentication_error', code: 'session_expired' })
  })

  it('refuses malformed and unknown credentials without echoing them', async () => {
    const none = await call('/v1/me')
    expect(none.status).toBe(401)
    expect(errorOf(none).code).toBe('missing_credentials')
    const basic = await call('/v1/me', { headers: { Authorization: 'Basic dXNlcjpwYXNz' } })
    expect(errorOf(basic).code).toBe('invalid_authorization')
    const secret = 'ss_thisIsNotARealSessionTokenButLongEnough123'
    const unknown = await call('/v1/me', { token: secret })
    expect(errorOf(unknown).code).toBe('invalid_session')
    expect(JSON.stringify(unknown.body)).not.toContain(secret)
    const cookie = await call('/v1/me', { cookie: 'garbage' })
    expect(errorOf(cookie).code).toBe('invalid_session')
  })

  it('CSRF: a cookie-authenticated POST needs an allowed Origin; bearer tokens do not', async () => {
    const a = await signup('csrf')
    const noOrigin = await call('/v1/workspaces', {
      method: 'POST',
      cookie: a.token,
      json: { name: 'x' },
    })
    expect(noOrigin.status).toBe(403)
    expect(errorOf(noOrigin).code).toBe('csrf_origin_mismatch')
    const evil = await call('/v1/workspaces', {
      method: 'POST',
      cookie: a.token,
      headers: { Origin: 'https://evil.example' },
      json: { name: 'x' },
    })
    expect(evil.status).toBe(403)
    const allowed = await call('/v1/workspaces', {
      method: 'POST',
      cookie: a.token,
      headers: { Origin: ORIGIN },
      json: { name: 'x' },
    })
    expect(allowed.status).toBe(201)
    const bearer = await call('/v1/workspaces', {
      method: 'POST',
      token: a.token,
      json: { name: 'y' },
    })
    expect(bearer.status).toBe(201)
    // Safe methods need no Origin.
    expect((await call('/v1/workspaces', { cookie: a.token })).status).toBe(200)
  })
})
