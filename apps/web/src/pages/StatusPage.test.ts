/**
 * Browser test: builds the app for a real node:http stand-in of the edge API, serves dist/ with
 * `vite preview`, and drives Debian's Chromium through playwright-core.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { type Browser, chromium, type Page } from 'playwright-core'
import { build, type PreviewServer, preview } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendJson, startServer, type TestServer } from '../test-support/http-server'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const APP_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const INITIAL_JS_BUDGET_KB = 120

const OK_REPORT = {
  status: 'ok',
  version: '0.1.0-test',
  checks: {
    postgres: { status: 'ok', latency_ms: 2.4 },
    redis: { status: 'ok', latency_ms: 0.8 },
    qstash: { status: 'not_configured' },
    'ml-node': { status: 'ok', latency_ms: 14.2 },
    vectors: { status: 'ok', latency_ms: 3.1 },
  },
}
const DEGRADED_REPORT = {
  status: 'degraded',
  version: '0.1.0-test',
  checks: {
    postgres: { status: 'ok', latency_ms: 2.9 },
    redis: { status: 'error', latency_ms: 1502, error: 'connect ECONNREFUSED 127.0.0.1:6379' },
    qstash: { status: 'not_configured' },
    'ml-node': { status: 'error', error: 'timed out after 2000 ms' },
    vectors: { status: 'ok', latency_ms: 4.7 },
  },
}

let api: TestServer
let mode: 'ok' | 'degraded' = 'ok'
const healthRequests: { cookie: string | undefined }[] = []
let outDir: string
let shotDir: string
let server: PreviewServer
let appUrl: string
let browser: Browser
let page: Page

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. The browser test drives Debian's Chromium: ` +
        'install it with `apt-get update && apt-get install -y chromium` (CI does this).',
    )
  }

  // A stand-in for the edge API: /health like the real one, CORS with credentials, a cookie.
  api = await startServer((req, res) => {
    const origin = req.headers.origin
    const cors: Record<string, string> = origin
      ? {
          'access-control-allow-origin': origin,
          'access-control-allow-credentials': 'true',
          vary: 'Origin',
        }
      : {}
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST' })
      return res.end()
    }
    if (req.url !== '/health') return sendJson(res, 404, { error: { message: 'nope' } }, cors)
    healthRequests.push({ cookie: req.headers.cookie })
    const headers = { ...cors, 'set-cookie': 'sid=test-session; Path=/; HttpOnly; SameSite=Lax' }
    if (mode === 'ok') sendJson(res, 200, OK_REPORT, headers)
    else sendJson(res, 503, DEGRADED_REPORT, headers)
  })

  outDir = await mkdtemp(join(tmpdir(), 'synthstack-web-dist-'))
  shotDir = join(tmpdir(), 'synthstack-web-screenshots')
  await mkdir(shotDir, { recursive: true })

  // Build exactly as `vite build` would: vitest sets NODE_ENV=test, which would ship Vue's
  // development build.
  const saved = { VITE_API_URL: process.env.VITE_API_URL, NODE_ENV: process.env.NODE_ENV }
  process.env.VITE_API_URL = api.url
  process.env.NODE_ENV = 'production'
  try {
    await build({
      root: APP_ROOT,
      mode: 'production',
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    })
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }

  server = await preview({
    root: APP_ROOT,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  })
  const url = server.resolvedUrls?.local[0]
  if (!url) throw new Error('vite preview did not report its URL')
  appUrl = url.replace(/\/$/, '')

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
  page = await browser.newPage({ viewport: { width: 1100, height: 820 } })
  // The page's clock stands still; tests move it with fastForward (no real 10 s waits).
  const start = new Date('2026-01-15T09:30:00Z')
  await page.clock.install({ time: start })
  await page.clock.pauseAt(new Date(start.getTime() + 1_000))
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
  await api?.close().catch(() => {})
  if (outDir) await rm(outDir, { recursive: true, force: true })
})

const overall = () => page.getByTestId('status-overall')
const row = (id: string) => page.locator(`li[data-check="${id}"]`)

describe('System status page (built app in Chromium)', () => {
  it('keeps the initial JavaScript within budget', async () => {
    const html = await readFile(join(outDir, 'index.html'), 'utf8')
    const initial = [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+\.js)"/g)].map(
      (m) => m[1] as string,
    )
    expect(initial.length).toBeGreaterThan(0)
    let bytes = 0
    for (const file of initial) bytes += gzipSync(await readFile(join(outDir, file))).length
    const kb = bytes / 1024
    console.log(`initial JS: ${kb.toFixed(1)} KB gzipped (${initial.join(', ')})`)
    expect(kb).toBeLessThanOrEqual(INITIAL_JS_BUDGET_KB)
  })

  it('shows every dependency of a healthy API, with latency and not_configured', async () => {
    await page.goto(`${appUrl}/`)
    await expect.poll(() => overall().getAttribute('data-status')).toBe('ok')
    expect(new URL(page.url()).pathname).toBe('/status')
    expect(await page.title()).toBe('System status · SynthStack')
    await expect.poll(() => overall().textContent()).toContain('All systems operational')
    expect(await overall().textContent()).toContain('0.1.0-test')
    expect(await overall().textContent()).toContain('HTTP 200')

    const ids = await page
      .locator('li[data-check]')
      .evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-check'), e.getAttribute('data-status')]),
      )
    expect(ids).toEqual([
      ['postgres', 'ok'],
      ['redis', 'ok'],
      ['qstash', 'not_configured'],
      ['ml-node', 'ok'],
      ['vectors', 'ok'],
    ])
    expect(await row('postgres').textContent()).toMatch(/PostgreSQL.*Operational.*2 ms/)
    expect(await row('redis').textContent()).toContain('<1 ms')
    expect(await row('qstash').textContent()).toMatch(/Not configured.*—.*Not set up/)
    expect(await page.getByRole('link', { name: 'Status' }).getAttribute('aria-current')).toBe(
      'page',
    )
    await page.screenshot({ path: join(shotDir, 'status-ok.png'), fullPage: true })
    await page.setViewportSize({ width: 390, height: 844 })
    await page.screenshot({ path: join(shotDir, 'status-ok-mobile.png'), fullPage: true })
    await page.setViewportSize({ width: 1100, height: 820 })
  })

  it('auto-refreshes every 10 s and shows a degraded 503 answer', async () => {
    mode = 'degraded'
    const before = healthRequests.length
    await page.clock.fastForward(9_000)
    await page.waitForTimeout(100)
    expect(await overall().getAttribute('data-status')).toBe('ok')
    await page.clock.fastForward(1_100)
    await expect.poll(() => overall().getAttribute('data-status')).toBe('degraded')
    expect(healthRequests.length).toBe(before + 1)
    // The first answer set a cookie; credentials: 'include' sends it back cross-origin.
    expect(healthRequests[0]?.cookie).toBeUndefined()
    expect(healthRequests.at(-1)?.cookie).toBe('sid=test-session')

    expect(await overall().textContent()).toContain('Degraded service')
    expect(await overall().textContent()).toContain('HTTP 503')
    expect(await row('redis').getAttribute('data-status')).toBe('error')
    expect(await row('redis').textContent()).toMatch(/Error.*1\.50 s.*ECONNREFUSED/)
    expect(await row('ml-node').textContent()).toMatch(/Error.*—.*timed out after 2000 ms/)
    expect(await row('postgres').getAttribute('data-status')).toBe('ok')
    await page.screenshot({ path: join(shotDir, 'status-degraded.png'), fullPage: true })
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.screenshot({ path: join(shotDir, 'status-degraded-dark.png'), fullPage: true })
    await page.emulateMedia({ colorScheme: 'light' })
  })

  it('stops polling while the tab is hidden and catches up when it is shown', async () => {
    const setVisibility = (state: 'hidden' | 'visible') =>
      page.evaluate((s) => {
        Object.defineProperty(document, 'visibilityState', { value: s, configurable: true })
        document.dispatchEvent(new Event('visibilitychange'))
      }, state)
    await setVisibility('hidden')
    const before = healthRequests.length
    mode = 'ok'
    await page.clock.fastForward(25_000)
    await page.waitForTimeout(200)
    expect(healthRequests.length).toBe(before)
    await setVisibility('visible')
    await expect.poll(() => overall().getAttribute('data-status')).toBe('ok')
    expect(healthRequests.length).toBe(before + 1)
  })

  it('refreshes on demand with the Refresh button', async () => {
    mode = 'degraded'
    const before = healthRequests.length
    await page.getByRole('button', { name: 'Refresh' }).click()
    await expect.poll(() => overall().getAttribute('data-status')).toBe('degraded')
    expect(healthRequests.length).toBe(before + 1)
  })

  it('says so, with the URL it tried, when the API is unreachable', async () => {
    await api.close() // its port is now closed
    await page.getByRole('button', { name: 'Refresh' }).click()
    const error = page.getByTestId('status-error')
    await expect.poll(() => error.isVisible()).toBe(true)
    expect(await error.getAttribute('role')).toBe('alert')
    expect(await error.textContent()).toContain('Cannot reach the API')
    expect(await page.getByTestId('status-error-url').textContent()).toBe(`${api.url}/health`)
    expect(await overall().count()).toBe(0)
    await page.screenshot({ path: join(shotDir, 'status-unreachable.png'), fullPage: true })
    console.log(`screenshots: ${shotDir}`)
  })

  it('serves deep links and shows a not-found page for unknown paths', async () => {
    await page.goto(`${appUrl}/no/such/page`)
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent())
      .toBe('Page not found')
    expect(await page.title()).toBe('Page not found · SynthStack')
    await page.getByRole('link', { name: 'Go to the system status' }).click()
    await expect.poll(() => new URL(page.url()).pathname).toBe('/status')
  })
})
