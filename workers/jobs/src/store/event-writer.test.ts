import type { JobEvent } from '@synthstack/jobs'
import { describe, expect, it } from 'vitest'
import { createEventWriter } from './event-writer'

const status = (s: string): JobEvent => ({
  type: 'status',
  status: s as JobEvent['status'],
  progress: 0,
  message: null,
  at: new Date(0).toISOString(),
})

/** A writer whose writes are recorded and finish only when the test says so. */
function recording() {
  const writes: string[][] = []
  const finish: (() => void)[] = []
  const writer = createEventWriter(
    (events) =>
      new Promise<void>((resolve) => {
        writes.push(events.map((e) => e.status))
        finish.push(resolve)
      }),
  )
  return { writer, writes, finish }
}

const tick = () => new Promise((r) => setTimeout(r, 0))

describe('createEventWriter', () => {
  it('writes a deferred event together with the next emitted one, in order', async () => {
    const { writer, writes, finish } = recording()
    const running = writer.defer(status('running'), 10_000)
    const succeeded = writer.emit(status('succeeded'))
    await tick()
    expect(writes).toEqual([['running', 'succeeded']])
    finish[0]?.()
    await Promise.all([running, succeeded])
  })

  it('writes a deferred event alone once its delay passes', async () => {
    const { writer, writes, finish } = recording()
    const running = writer.defer(status('running'), 20)
    await tick()
    expect(writes).toEqual([])
    await new Promise((r) => setTimeout(r, 40))
    expect(writes).toEqual([['running']])
    finish[0]?.()
    await running
    // Later events are separate writes, still after it.
    const done = writer.emit(status('succeeded'))
    await tick()
    expect(writes).toEqual([['running'], ['succeeded']])
    finish[1]?.()
    await done
  })

  it('starts a write only after the one before finished, never reordering', async () => {
    const { writer, writes, finish } = recording()
    const first = writer.emit(status('running'))
    const second = writer.emit(status('failed'))
    await tick()
    expect(writes).toEqual([['running']])
    let secondDone = false
    void second.then(() => {
      secondDone = true
    })
    finish[0]?.()
    await first
    await tick()
    expect(writes).toEqual([['running'], ['failed']])
    expect(secondDone).toBe(false)
    finish[1]?.()
    await second
  })

  it('reports a failed write to its callers and goes on with the next', async () => {
    let calls = 0
    const writer = createEventWriter(async () => {
      calls++
      if (calls === 1) throw new Error('redis down')
    })
    await expect(writer.emit(status('running'))).rejects.toThrow('redis down')
    await expect(writer.emit(status('succeeded'))).resolves.toBeUndefined()
    expect(calls).toBe(2)
  })
})
