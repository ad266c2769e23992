import { describe, expect, it, vi } from 'vitest'
import type { ApiError } from '../http/errors.js'
import { createMetrics } from '../metrics.js'
import { ModelLoad } from './model-load.js'
import { card } from './registry.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const testCard = () =>
  card({
    id: 'm',
    task: 'embeddings',
    kind: 'test',
    family: 'test',
    runtime: 'test',
    source: 'test',
    license: 'n/a',
    status: 'loading',
  })

function make(
  load: () => Promise<{ details?: Record<string, unknown> } | undefined>,
  retryMs = 80,
) {
  const c = testCard()
  const metrics = createMetrics()
  const l = new ModelLoad({ card: c, load, retryMs, maxRetryMs: retryMs * 4, metrics })
  return { l, c, metrics }
}

/** A load that fails `fails` times, then succeeds; counts attempts. */
function flaky(fails: number, ms = 5) {
  const calls = { n: 0 }
  const load = async () => {
    calls.n += 1
    await sleep(ms)
    if (calls.n <= fails) throw new Error(`broken ${calls.n}`)
    return { details: { ok: true } }
  }
  return { calls, load }
}

describe('ModelLoad', () => {
  it('heals without a restart: a load that fails once succeeds after the retry delay', async () => {
    const { calls, load } = flaky(1)
    const { l, c, metrics } = make(load, 150)
    await l.start()
    expect(l.settled).toBe(true)
    expect(c.status).toBe('failed')
    expect(c.details?.error).toBe('broken 1')
    const err = (await l.ensure().catch((e: unknown) => e)) as ApiError
    expect(err.status).toBe(503)
    expect(err.code).toBe('model_load_failed')
    expect(err.message).toContain('broken 1')
    // Retry-After is the real time left (150 ms → 1 s), not a fixed 30.
    expect(err.headers['Retry-After']).toBe('1')
    expect(calls.n).toBe(1)
    await sleep(200)
    await l.ensure()
    expect(c.status).toBe('ready')
    expect(c.details).toMatchObject({ ok: true })
    expect(c.details?.error).toBeUndefined()
    expect((await metrics.modelLoadSeconds.get()).values[0]?.labels.model).toBe('m')
    l.close()
  })

  it('keeps one attempt in flight however many callers wait', async () => {
    const { calls, load } = flaky(0, 30)
    const { l } = make(load)
    await Promise.all([l.ensure(), l.ensure(), l.start(), l.ensure()])
    expect(calls.n).toBe(1)
    await l.ensure()
    expect(calls.n).toBe(1)
  })

  it('retries in the background and backs off, with Retry-After counting down', async () => {
    const { calls, load } = flaky(2, 1)
    const { l, c } = make(load, 1000)
    await l.start()
    const first = (await l.ensure().catch((e: unknown) => e)) as ApiError
    expect(Number(first.headers['Retry-After'])).toBe(1)
    expect(c.details?.failed_attempts).toBe(1)
    // The timer retries on its own after 1 s; that fails too, and the next wait doubles.
    await sleep(1200)
    expect(calls.n).toBe(2)
    const second = (await l.ensure().catch((e: unknown) => e)) as ApiError
    expect(Number(second.headers['Retry-After'])).toBe(2)
    expect(c.details?.failed_attempts).toBe(2)
    l.close()
    await sleep(2100)
    // Closed: no more background attempts.
    expect(calls.n).toBe(2)
  })

  it('a model lost after running a while reloads at once; one lost at once backs off', async () => {
    const { calls, load } = flaky(0, 1)
    const { l, c } = make(load, 100)
    await l.start()
    await sleep(120)
    l.lost(new Error('worker exited (1)'))
    expect(c.status).toBe('failed')
    expect(String(c.details?.error)).toContain('worker exited')
    await l.ensure()
    expect(calls.n).toBe(2)
    expect(c.status).toBe('ready')
    // Dies right after loading: the next load waits for the retry delay.
    l.lost(new Error('worker exited again'))
    const err = (await l.ensure().catch((e: unknown) => e)) as ApiError
    expect(err.code).toBe('model_load_failed')
    await sleep(150)
    await l.ensure()
    expect(calls.n).toBe(3)
    l.close()
  })
})

describe('ModelLoad background retries', () => {
  it('keeps retrying on its timer when the wall clock reads behind the timer clock', async () => {
    const c = testCard()
    let attempts = 0
    // Fails with no await before the throw, so each retry runs on the timer's own tick.
    const load = async () => {
      attempts += 1
      throw new Error('always broken')
    }
    // Timers run on the monotonic clock, Date.now() on the wall clock: the two drift apart (a
    // timer fires a millisecond "early", NTP slews or steps the clock). A wall clock at half
    // speed makes every timer fire before the retry time recorded from Date.now().
    const real = Date.now.bind(Date)
    const t0 = real()
    const now = vi.spyOn(Date, 'now').mockImplementation(() => t0 + (real() - t0) / 2)
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const l = new ModelLoad({ card: c, load, retryMs: 10, maxRetryMs: 10 })
    try {
      await l.start()
      // ~40 attempts in 400 ms on an idle machine; wait for 12, however slow the machine
      for (let waited = 0; attempts < 12 && waited < 5_000; waited += 50) await sleep(50)
    } finally {
      l.close()
      now.mockRestore()
      warn.mockRestore()
    }
    // a retry chain that stops makes one or two
    expect(attempts).toBeGreaterThanOrEqual(12)
    expect(c.status).toBe('failed')
  })
})
