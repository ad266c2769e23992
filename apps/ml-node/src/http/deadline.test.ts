import { describe, expect, it } from 'vitest'
import { within } from './deadline.js'

const never = new Promise<never>(() => undefined)
const late = () => new Error('late')

describe('within', () => {
  it('passes the work through when it settles in time', async () => {
    expect(await within(Promise.resolve(7), 1000, late)).toBe(7)
    const err = await within(Promise.reject(new Error('broke')), 1000, late).catch((e) => e)
    expect((err as Error).message).toBe('broke')
  })

  it('gives up at the deadline while the work carries on', async () => {
    let finish: (v: string) => void = () => undefined
    const work = new Promise<string>((r) => {
      finish = r
    })
    const t = performance.now()
    const err = await within(work, 60, late).catch((e) => e)
    expect((err as Error).message).toBe('late')
    expect(performance.now() - t).toBeGreaterThanOrEqual(55)
    finish('done')
    expect(await work).toBe('done')
  })

  it('stops waiting as soon as the signal aborts, and refuses an aborted signal at once', async () => {
    const ac = new AbortController()
    const waiting = within(never, 10_000, late, ac.signal)
    const t = performance.now()
    setTimeout(() => ac.abort(), 20)
    const err = await waiting.catch((e) => e)
    expect((err as Error).message).toContain('aborted')
    expect(performance.now() - t).toBeLessThan(5000)
    const again = await within(Promise.resolve(1), 1000, late, ac.signal).catch((e) => e)
    expect((again as Error).message).toContain('aborted')
  })

  it('a deadline already past fails at once', async () => {
    const err = await within(never, 0, late).catch((e) => e)
    expect((err as Error).message).toBe('late')
  })
})
