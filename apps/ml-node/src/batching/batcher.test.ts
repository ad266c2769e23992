import { describe, expect, it } from 'vitest'
import { ApiError } from '../http/errors.js'
import { DynamicBatcher } from './batcher.js'

function make(over: Partial<ConstructorParameters<typeof DynamicBatcher<number, number>>[0]> = {}) {
  const runs: number[][] = []
  const b = new DynamicBatcher<number, number>({
    name: 'double',
    maxBatch: 4,
    maxWaitMs: 20,
    gather: true,
    maxQueue: 10,
    timeoutMs: 1000,
    run: async (xs) => {
      runs.push(xs)
      await new Promise((r) => setTimeout(r, 10))
      return xs.map((x) => x * 2)
    },
    ...over,
  })
  return { b, runs }
}

describe('DynamicBatcher', () => {
  it('gathers items from many requests up to the batch size, in order', async () => {
    const { b, runs } = make()
    const out = await Promise.all([b.submit([1]), b.submit([2, 3]), b.submit([4]), b.submit([5])])
    expect(out).toEqual([[2], [4, 6], [8], [10]])
    expect(runs[0]).toEqual([1, 2, 3, 4])
    expect(runs[1]).toEqual([5])
  })

  it('closes a batch after the wait bound when it is not full', async () => {
    const { b, runs } = make({ maxWaitMs: 15 })
    const t = performance.now()
    await b.submit([1])
    expect(performance.now() - t).toBeGreaterThanOrEqual(14)
    expect(runs).toEqual([[1]])
  })

  it('never mixes requests when gathering is off', async () => {
    const { b, runs } = make({ gather: false })
    await Promise.all([b.submit([1]), b.submit([2, 3])])
    expect(runs).toEqual([[1], [2, 3]])
  })

  it('refuses work beyond the queue bound with a 429 and Retry-After', async () => {
    const { b } = make({ maxQueue: 3 })
    const first = b.submit([1, 2, 3])
    const err = await b.submit([4]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(429)
    expect(Number((err as ApiError).headers['Retry-After'])).toBeGreaterThanOrEqual(1)
    expect(await first).toEqual([2, 4, 6])
  })

  it('takes a request larger than the queue when the queue is empty, never when it is not', async () => {
    const { b, runs } = make({ maxQueue: 3 })
    // Larger than the whole queue: an idle model must still serve it (else 429 forever).
    const big = b.submit([1, 2, 3, 4, 5])
    const err = await b.submit([6, 7, 8, 9]).catch((e: unknown) => e)
    expect((err as ApiError).status).toBe(429)
    expect(await big).toEqual([2, 4, 6, 8, 10])
    expect(runs.flat()).toEqual([1, 2, 3, 4, 5])
  })

  it('times out a request that waits too long, and drops its queued items', async () => {
    const { b, runs } = make({
      timeoutMs: 30,
      maxBatch: 1,
      run: async (xs) => {
        runs.push(xs)
        await new Promise((r) => setTimeout(r, 50))
        return xs
      },
    })
    const slow = b.submit([1]).catch((e: unknown) => e)
    const late = await b.submit([2]).catch((e: unknown) => e)
    expect((late as ApiError).status).toBe(503)
    expect((late as ApiError).code).toBe('timeout')
    expect(((await slow) as ApiError).code).toBe('timeout')
    await new Promise((r) => setTimeout(r, 80))
    expect(runs.flat()).not.toContain(2)
  })

  it('fails every request of a batch whose run throws, and keeps going', async () => {
    let fail = true
    const { b } = make({
      run: async (xs) => {
        if (fail) {
          fail = false
          throw new Error('boom')
        }
        return xs
      },
    })
    await expect(Promise.all([b.submit([1]), b.submit([2])])).rejects.toThrow('boom')
    expect(await b.submit([3])).toEqual([3])
  })

  it('keeps to what is left of the request deadline (leftMs), and refuses one already past', async () => {
    const { b } = make({
      timeoutMs: 10_000,
      run: async (xs) => {
        await new Promise((r) => setTimeout(r, 3000))
        return xs
      },
    })
    const t = performance.now()
    const err = (await b.submit([1], undefined, 50).catch((e: unknown) => e)) as ApiError
    expect(err.status).toBe(503)
    expect(err.code).toBe('timeout')
    // well before the 3 s run would have answered
    expect(performance.now() - t).toBeLessThan(1500)
    const past = (await b.submit([2], undefined, 0).catch((e: unknown) => e)) as ApiError
    expect(past.code).toBe('timeout')
    await b.close()
  })
})
