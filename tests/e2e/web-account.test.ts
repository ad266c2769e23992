import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSql } from '@synthstack/db'
import {
  freePort,
  startTestStack,
  startWranglerDev,
  type TestStack,
  type WranglerDev,
} from '@synthstack/testing'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Json } from './support/client'
import { repoRoot } from './support/repo-root'

// The web app's account pages in Chromium against the real stack: emulators (startTestStack),
// the edge API under `wrangler dev`, and the built app (VITE_API_URL baked in) under
// `vite preview`. Every call of the app goes through @synthstack/sdk with the HttpOnly
// session cookie, across origins (CORS with credentials, CSRF Origin check).

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const WEB = join(repoRoot, 'apps/web')
const VITE = join(WEB, 'node_modules/vite/bin/vite.js')
const PASSWORD = 'correct horse battery'
const run = crypto.randomUUID().slice(0, 8)
const owner = { email: `owner-${run}@example.com`, name: 'Ada Lovelace' }
const teammate = { email: `teammate-${run}@example.com`, password: 'teammate password 1' }
const invited = `later-${run}@example.com`
const ENGINES = 'Analytical Engines'

let stack: TestStack
let api: WranglerDev
let preview: ChildProcess | undefined
let previewOutput = ''
let outDir: string
let shotDir: string
let webUrl: string
let browser: Browser
let page: Page
let secret = ''
let workspaceId = ''

function spawnVite(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [VITE, ...args], {
    cwd: WEB,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // vitest sets NODE_ENV=test, which would ship Vue's development build.
    env: { ...process.env, NODE_ENV: 'production', NO_COLOR: '1', ...env },
  })
}

async function buildWeb(apiUrl: string): Promise<void> {
  const child = spawnVite(['build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    VITE_API_URL: apiUrl,
  })
  let output = ''
  child.stdout?.on('data', (c: Buffer) => (output += c))
  child.stderr?.on('data', (c: Buffer) => (output += c))
  const code = await new Promise<number | null>((done) => child.once('exit', done))
  if (code !== 0) throw new Error(`vite build failed (${code}):\n${output}`)
}

async function startPreview(port: number): Promise<string> {
  preview = spawnVite(
    ['preview', '--outDir', outDir, '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
    {},
  )
  preview.stdout?.on('data', (c: Buffer) => (previewOutput += c))
  preview.stderr?.on('data', (c: Buffer) => (previewOutput += c))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      const res = await fetch(`${url}/`)
      await res.body?.cancel()
      if (res.ok) return url
    } catch {}
    if (preview.exitCode !== null || Date.now() > deadline) {
      throw new Error(`vite preview did not start:\n${previewOutput}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** A third party's call with an API key, from Node. */
async function asKey(key: string, path: string) {
  const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${key}` } })
  return { status: res.status, body: (await res.json()) as Json }
}

const byTestId = (id: string) => page.getByTestId(id)
const visible = (id: string) => byTestId(id).waitFor({ state: 'visible', timeout: 15_000 })
const path = () => new URL(page.url()).pathname
const waitForPath = (p: string) => page.waitForURL((url) => url.pathname === p, { timeout: 15_000 })
/** The focused element's `attribute`, read in the page (a string: this package has no DOM types). */
const focused = (attribute: string) =>
  page.evaluate<string | null>(`document.activeElement?.getAttribute('${attribute}') ?? null`)
const focusedTestId = () => focused('data-testid')
const switcher = () => byTestId('workspace-switcher')
const workspaceItem = (name: string) =>
  byTestId('workspace-list').locator(`button[data-workspace="${name}"]`)

/** Opens the header's workspace switcher and waits for the list. */
async function openSwitcher() {
  await switcher().click()
  expect(await switcher().getAttribute('aria-expanded')).toBe('true')
  await byTestId('workspace-list').waitFor()
}

/** Clicks "Log in" and returns the status of the login call it made. */
async function submitLogin(): Promise<number> {
  const [response] = await Promise.all([
    page.waitForResponse(
      (r) => r.url().endsWith('/v1/auth/login') && r.request().method() === 'POST',
    ),
    page.getByRole('button', { name: 'Log in' }).click(),
  ])
  await page.getByRole('button', { name: 'Log in' }).waitFor()
  return response.status()
}

async function fill(fields: Record<string, string>) {
  for (const [id, value] of Object.entries(fields)) await page.locator(`#${id}`).fill(value)
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`)
  }
  outDir = await mkdtemp(join(tmpdir(), 'e2e-web-dist-'))
  shotDir = join(tmpdir(), 'synthstack-web-screenshots')
  await mkdir(shotDir, { recursive: true })
  const [apiPort, webPort] = [await freePort(), await freePort()]
  const apiUrl = `http://127.0.0.1:${apiPort}`
  const webOrigin = `http://127.0.0.1:${webPort}`

  const [started] = await Promise.all([startTestStack(), buildWeb(apiUrl)])
  stack = started
  ;[api, webUrl] = await Promise.all([
    startWranglerDev({
      packageDir: join(repoRoot, 'apps/edge-api'),
      config: join(repoRoot, 'wrangler.toml'),
      cwd: repoRoot,
      port: apiPort,
      vars: {
        ...stack.env,
        ENVIRONMENT: 'test',
        LOG_LEVEL: 'warn',
        ML_NODE_URL: '',
        CORS_ORIGINS: webOrigin,
        PASSWORD_PBKDF2_ITERATIONS: '10000',
        RATE_LIMIT_PER_MINUTE_FREE: '1000000',
        LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      },
      readyPath: '/openapi.json',
    }),
    startPreview(webPort),
  ])
  expect(webUrl).toBe(webOrigin)

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  const context = await browser.newContext({ viewport: { width: 1180, height: 860 } })
  page = await context.newPage()
})

afterAll(async () => {
  await browser?.close()
  if (preview?.pid !== undefined && preview.exitCode === null) {
    const exited = new Promise((done) => preview?.once('exit', done))
    try {
      process.kill(-preview.pid, 'SIGTERM')
    } catch {}
    await exited
  }
  await api?.close()
  await stack?.close()
  if (outDir) await rm(outDir, { recursive: true, force: true })
})

describe('web app account pages (Chromium → vite preview → wrangler dev → emulators)', () => {
  it('shows the API’s field errors on sign-up, then signs up and lands in the app', async () => {
    await page.goto(`${webUrl}/signup`)
    await fill({ email: 'not-an-email', password: 'short' })
    await page.getByRole('button', { name: 'Sign up' }).click()
    await visible('error-email')
    expect(await byTestId('error-email').textContent()).toContain('Must be an email address')

    await fill({ email: owner.email })
    await page.getByRole('button', { name: 'Sign up' }).click()
    await visible('error-password')
    expect(await byTestId('error-password').textContent()).toContain('at least 10 characters')
    expect(await byTestId('error-email').count()).toBe(0)
    expect(await page.locator('#password').getAttribute('aria-invalid')).toBe('true')

    await fill({ password: PASSWORD, name: owner.name, workspace_name: 'Analytical Engines' })
    await page.getByRole('button', { name: 'Sign up' }).click()
    await waitForPath('/api-keys')
    await visible('account')
    expect(await byTestId('account-email').textContent()).toBe(owner.name)
    expect(await byTestId('account-workspace').textContent()).toBe('Analytical Engines')
    expect(await page.title()).toBe('API keys · SynthStack')
    await visible('keys-empty')
  })

  it('creates an API key whose secret is shown once and works from Node', async () => {
    await page.locator('#name').fill('production backend')
    await page.getByLabel('Jobs').check()
    await page.getByRole('button', { name: 'Create key' }).click()
    await visible('new-key-secret')
    secret = await byTestId('new-key-secret').inputValue()
    expect(secret).toMatch(/^sk_live_[A-Za-z0-9_-]{32}$/)
    expect(await byTestId('new-key').textContent()).toContain('shown only once')
    const row = page.locator('[data-testid="keys-table"] tbody tr')
    await row.first().waitFor()
    expect(await row.count()).toBe(1)
    expect(await row.first().textContent()).toContain(`${secret.slice(0, 14)}…`)
    expect(await row.first().textContent()).toMatch(/Chat.*Embeddings.*Jobs/)
    await page.screenshot({ path: join(shotDir, 'web-api-keys-created.png'), fullPage: true })

    const me = await asKey(secret, '/v1/me')
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({
      auth_method: 'api_key',
      scopes: ['chat', 'embeddings', 'jobs'],
      workspace: { name: 'Analytical Engines' },
    })
    workspaceId = me.body.workspace.id

    // Reload: the secret is gone for good; "last used" shows the call just made (written
    // after the response, so poll).
    await expect
      .poll(
        async () => {
          await page.reload()
          await byTestId('keys-table').waitFor()
          return row.first().textContent()
        },
        { timeout: 15_000, interval: 500 },
      )
      .toContain('just now')
    expect(await byTestId('new-key').count()).toBe(0)
    expect(await page.content()).not.toContain(secret)
    await page.screenshot({ path: join(shotDir, 'web-api-keys.png'), fullPage: true })
  })

  it('shows daily usage by model and key with the monthly budget', async () => {
    const me = await asKey(secret, '/v1/me')
    const sql = createSql(stack.env)
    // 60 metered calls over the last two weeks, as the metering flush writes them.
    await sql.query(
      `insert into usage_events
         (workspace_id, api_key_id, route, model, tokens_in, tokens_out, latency_ms, status, created_at)
       select $1::uuid, case when g % 3 = 0 then null else $2::uuid end, '/v1/embeddings',
              case when g % 2 = 0 then 'use-lite-512' else 'bge-small-en-v1.5' end,
              100 + (g * 37) % 400, 0, 20 + g % 30, case when g % 11 = 0 then 503 else 200 end,
              now() - (g % 14) * interval '1 day'
       from generate_series(1, 60) g`,
      [workspaceId, me.body.api_key_id],
    )
    const [sum] = (await sql.query(
      'select sum(tokens_in)::int as tokens from usage_events where workspace_id = $1',
      [workspaceId],
    )) as { tokens: number }[]
    // The live budget counter, as a metering flush would have raised it.
    const month = new Date().toISOString().slice(0, 7)
    await fetch(stack.env.UPSTASH_REDIS_REST_URL, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.env.UPSTASH_REDIS_REST_TOKEN}` },
      body: JSON.stringify(['SET', `ss:tokens:${workspaceId}:${month}`, String(sum?.tokens)]),
    })

    await page.getByRole('link', { name: 'Usage' }).click()
    await waitForPath('/usage')
    await visible('budget')
    await expect.poll(() => byTestId('total-requests').textContent()).toBe('60')
    expect(await byTestId('budget').textContent()).toMatch(/of 1,000,000 tokens used/)
    expect(await byTestId('budget').textContent()).toContain(
      (sum?.tokens ?? 0).toLocaleString('en-US'),
    )
    const models = await byTestId('usage-by-model').locator('tbody tr').allTextContents()
    expect(models).toHaveLength(2)
    const callers = await byTestId('usage-by-key').locator('tbody tr').allTextContents()
    expect(callers.join('|')).toContain('production backend')
    expect(callers.join('|')).toContain('Web app')
    await page.screenshot({ path: join(shotDir, 'web-usage.png'), fullPage: true })
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.screenshot({ path: join(shotDir, 'web-usage-dark.png'), fullPage: true })
    await page.emulateMedia({ colorScheme: 'light' })
    await page.setViewportSize({ width: 390, height: 844 })
    await page.screenshot({ path: join(shotDir, 'web-usage-mobile.png'), fullPage: true })
    await page.setViewportSize({ width: 1180, height: 860 })
  })

  it('lets the owner add a member and invite a new email', async () => {
    const signup = await fetch(`${api.url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(teammate),
    })
    expect(signup.status).toBe(201)
    await page.getByRole('link', { name: 'Members' }).click()
    await waitForPath('/members')
    await byTestId('members-table').waitFor()
    await fill({ email: teammate.email })
    await page.locator('#role').selectOption('admin')
    await page.getByRole('button', { name: 'Add member' }).click()
    await visible('member-added')
    expect(await byTestId('member-added').textContent()).toContain(`Added ${teammate.email}`)
    const added = page.locator(`tr[data-member="${teammate.email}"]`)
    await added.waitFor()
    expect(await added.locator('select').inputValue()).toBe('admin')

    await fill({ email: invited })
    await page.getByRole('button', { name: 'Add member' }).click()
    await page.locator(`tr[data-invited="${invited}"]`).waitFor()
    expect(await byTestId('member-added').textContent()).toContain(`Invited ${invited}`)

    await fill({ email: teammate.email })
    await page.getByRole('button', { name: 'Add member' }).click()
    await visible('error-email')
    expect(await byTestId('error-email').textContent()).toContain('already a member')
    await page.screenshot({ path: join(shotDir, 'web-members.png'), fullPage: true })
  })

  it('revokes the key after a confirmation, and the key stops working', async () => {
    await page.getByRole('link', { name: 'API keys' }).click()
    await byTestId('keys-table').waitFor()
    await page.getByRole('button', { name: 'Revoke production backend' }).click()
    await visible('confirm')
    await byTestId('confirm').click()
    await visible('keys-empty')
    const denied = await asKey(secret, '/v1/me')
    expect(denied.status).toBe(401)
    expect(denied.body.error).toMatchObject({ code: 'api_key_revoked' })
    expect(JSON.stringify(denied.body)).not.toContain(secret)
  })

  it('logs out; guarded pages send to login and come back after it', async () => {
    await page.getByRole('button', { name: 'Log out' }).click()
    await waitForPath('/login')
    await visible('login-notice')
    expect(await byTestId('login-notice').textContent()).toContain('logged out')

    await page.goto(`${webUrl}/usage`)
    await waitForPath('/login')
    expect(new URL(page.url()).searchParams.get('redirect')).toBe('/usage')
    expect(await byTestId('account').count()).toBe(0)

    await fill({ email: owner.email, password: 'wrong password!' })
    expect(await submitLogin()).toBe(401)
    await visible('form-error')
    expect(await byTestId('form-error').textContent()).toContain('Wrong email or password.')

    await fill({ email: owner.email, password: PASSWORD })
    await page.getByRole('button', { name: 'Log in' }).click()
    await waitForPath('/usage')
    await visible('budget')
    expect(path()).toBe('/usage')
  })

  it('lets the owner revoke an invitation sent to a wrong email, and it disappears', async () => {
    await page.getByRole('link', { name: 'Members' }).click()
    await waitForPath('/members')
    const row = page.locator(`tr[data-invited="${invited}"]`)
    await row.waitFor()
    await page.getByRole('button', { name: `Revoke the invitation for ${invited}` }).click()
    await visible('invitation-revoked')
    expect(await byTestId('invitation-revoked').textContent()).toContain(
      `Invitation for ${invited} revoked.`,
    )
    await row.waitFor({ state: 'detached' })
    await expect.poll(focusedTestId).toBe('invitation-revoked')
    // Gone on the API too, not only on the page.
    await page.reload()
    await byTestId('members-table').waitFor()
    expect(await page.locator('tr[data-invited]').count()).toBe(0)
    expect(await page.locator(`tr[data-member="${owner.email}"]`).count()).toBe(1)
  })

  it('lets a member of two workspaces switch; the page shown reloads, a reload keeps it', async () => {
    await page.getByRole('button', { name: 'Log out' }).click()
    await waitForPath('/login')
    await fill({ email: teammate.email, password: teammate.password })
    await page.getByRole('button', { name: 'Log in' }).click()
    await waitForPath('/api-keys')
    const own = (await byTestId('account-workspace').textContent()) ?? ''
    expect(own).not.toBe(ENGINES)
    expect(await byTestId('account-role').textContent()).toBe('Owner')
    await page.getByRole('link', { name: 'Members' }).click()
    await waitForPath('/members')
    await page.locator(`tr[data-member="${teammate.email}"]`).waitFor()
    expect(await page.locator('tr[data-member]').count()).toBe(1)

    // The list: every workspace with the user's role in it, the current one marked.
    await openSwitcher()
    expect(await workspaceItem(own).getAttribute('aria-current')).toBe('true')
    expect(await workspaceItem(own).textContent()).toContain('Owner')
    expect(await workspaceItem(ENGINES).getAttribute('aria-current')).toBeNull()
    expect(await workspaceItem(ENGINES).textContent()).toContain('Admin')
    await page.screenshot({ path: join(shotDir, 'web-workspace-switcher.png') })
    // Escape closes it and gives the focus back to the button.
    await page.keyboard.press('Escape')
    expect(await switcher().getAttribute('aria-expanded')).toBe('false')
    expect(await byTestId('workspace-list').count()).toBe(0)
    await expect.poll(focusedTestId).toBe('workspace-switcher')

    await openSwitcher()
    await workspaceItem(ENGINES).click()
    await expect.poll(() => byTestId('account-workspace').textContent()).toBe(ENGINES)
    expect(await byTestId('account-role').textContent()).toBe('Admin')
    await expect.poll(focusedTestId).toBe('workspace-switcher')
    // The members page reloaded for the new workspace, without a navigation.
    expect(path()).toBe('/members')
    await page.locator(`tr[data-member="${owner.email}"]`).waitFor()
    expect(await page.locator(`tr[data-member="${teammate.email}"] select`).inputValue()).toBe(
      'admin',
    )
    // Routes without a workspace in the path act in it too (X-Workspace-Id): A's usage.
    await page.getByRole('link', { name: 'Usage' }).click()
    await waitForPath('/usage')
    await expect.poll(() => byTestId('total-requests').textContent()).toBe('60')

    // A reload remembers the choice.
    await page.reload()
    await visible('budget')
    expect(await byTestId('account-workspace').textContent()).toBe(ENGINES)
    await expect.poll(() => byTestId('total-requests').textContent()).toBe('60')
    await openSwitcher()
    expect(await workspaceItem(ENGINES).getAttribute('aria-current')).toBe('true')
    await page.keyboard.press('Escape')
  })

  it('creates a workspace (field errors from the API beside the name) and acts in it', async () => {
    await openSwitcher()
    await page.getByRole('link', { name: 'New workspace' }).click()
    await waitForPath('/workspaces/new')
    expect(await page.title()).toBe('New workspace · SynthStack')
    expect(await byTestId('workspace-list').count()).toBe(0)

    await page.getByRole('button', { name: 'Create workspace' }).click()
    await visible('error-name')
    expect(await byTestId('error-name').textContent()).toContain('Enter a name')
    expect(await focused('id')).toBe('name')

    await fill({ name: 'x'.repeat(201) })
    const [refused] = await Promise.all([
      page.waitForResponse(
        (r) => r.url().endsWith('/v1/workspaces') && r.request().method() === 'POST',
      ),
      page.getByRole('button', { name: 'Create workspace' }).click(),
    ])
    expect(refused.status()).toBe(400)
    await expect
      .poll(() => byTestId('error-name').textContent())
      .toContain('Must be at most 200 characters')
    expect(await page.locator('#name').getAttribute('aria-invalid')).toBe('true')

    await fill({ name: 'Difference Engine' })
    await page.getByRole('button', { name: 'Create workspace' }).click()
    await waitForPath('/api-keys')
    await expect.poll(() => byTestId('account-workspace').textContent()).toBe('Difference Engine')
    expect(await byTestId('account-role').textContent()).toBe('Owner')
    await visible('keys-empty')
    await openSwitcher()
    // The list opens with what it showed last and refreshes: the new workspace comes in.
    await expect.poll(() => byTestId('workspace-list').getByRole('button').count()).toBe(3)
    expect(await workspaceItem('Difference Engine').getAttribute('aria-current')).toBe('true')
    await page.screenshot({ path: join(shotDir, 'web-workspace-created.png') })
    await page.keyboard.press('Escape')
    await page.setViewportSize({ width: 390, height: 844 })
    await openSwitcher()
    await page.screenshot({ path: join(shotDir, 'web-workspace-switcher-mobile.png') })
    await page.keyboard.press('Escape')
    await page.setViewportSize({ width: 1180, height: 860 })
  })

  it('tells a throttled login how long to wait (Retry-After)', async () => {
    await page.getByRole('button', { name: 'Log out' }).click()
    await waitForPath('/login')
    const statuses: number[] = []
    for (let attempt = 1; attempt <= 4; attempt++) {
      await fill({ email: teammate.email, password: `not it ${attempt}` })
      statuses.push(await submitLogin())
    }
    expect(statuses).toEqual([401, 401, 401, 429])
    await expect
      .poll(() => byTestId('form-error').textContent())
      .toMatch(/Too many failed sign-in attempts.*Try again in 15 minutes\./)
    // Even the right password is refused until the window ends.
    await fill({ email: teammate.email, password: teammate.password })
    expect(await submitLogin()).toBe(429)
    expect(path()).toBe('/login')
  })
})
