import type { JobEvent } from '@synthstack/jobs'

export interface EventWriter {
  /** Queues `event` and writes everything queued; resolves once `event` is written. */
  emit(event: JobEvent): Promise<void>
  /**
   * Queues `event` to go out with the next `emit`, or after `maxDelayMs` if none comes first;
   * resolves once it is written. A job that finishes quickly gets its `running` and final
   * events in one write instead of two.
   */
  defer(event: JobEvent, maxDelayMs: number): Promise<void>
}

interface Queued {
  event: JobEvent
  written: () => void
  failed: (error: unknown) => void
}

/**
 * One job's events, written in the order they were queued: each write carries every event
 * queued since the one before, and starts only after that one finished, so the list never holds
 * them out of order. `write` gets each batch (e.g. one RPUSH of all of them).
 */
export function createEventWriter(write: (events: JobEvent[]) => Promise<void>): EventWriter {
  let queued: Queued[] = []
  let tail: Promise<void> = Promise.resolve()
  let timer: ReturnType<typeof setTimeout> | undefined
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    const batch = queued
    queued = []
    if (batch.length === 0) return
    const done = tail.then(() => write(batch.map((q) => q.event)))
    // A failed write is reported to its own callers and does not hold back the next one.
    tail = done.catch(() => {})
    done.then(
      () => {
        for (const q of batch) q.written()
      },
      (error: unknown) => {
        for (const q of batch) q.failed(error)
      },
    )
  }
  const enqueue = (event: JobEvent) =>
    new Promise<void>((written, failed) => {
      queued.push({ event, written, failed })
    })
  return {
    emit(event) {
      const written = enqueue(event)
      flush()
      return written
    },
    defer(event, maxDelayMs) {
      const written = enqueue(event)
      timer ??= setTimeout(flush, maxDelayMs)
      return written
    },
  }
}
