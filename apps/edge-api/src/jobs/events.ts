import { and, eq, type Job, jobs } from '@synthstack/db'
import { eventsKey, isTerminal, type JobEvent } from '@synthstack/jobs'
import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import { getDb, getRedis } from '../stores'
import type { AppEnv } from '../types'

/** How often the stream reads new events, checks the row, and how long one stream may last. */
const POLL_MS = 100
const ROW_CHECK_EVERY = 10
const MAX_STREAM_MS = 5 * 60 * 1000

const rowEvent = (job: Job): JobEvent => ({
  type: 'status',
  status: job.status,
  progress: job.progress,
  message: job.progressMessage,
  at: (job.finishedAt ?? job.createdAt).toISOString(),
  error: job.error,
})

/**
 * `GET /v1/jobs/:id/events`. Workers hold no Redis subscription, so this polls the job's event
 * list (LRANGE from the cursor) every 100 ms and writes each new entry as an SSE event whose id is
 * its index, ending after a terminal status. The row is checked every second too, so a job whose
 * events expired (or were never written, Redis being down) still ends with its final state.
 * Resumes after `Last-Event-ID`. Lasts at most 5 minutes; clients reconnect with the last id.
 */
export function streamJobEvents(c: Context<AppEnv>, job: Job): Response {
  const config = c.get('config')
  const redis = getRedis(config)
  const db = getDb(config)
  const lastId = Number.parseInt(c.req.header('Last-Event-ID') ?? '', 10)
  let cursor = Number.isFinite(lastId) && lastId >= 0 ? lastId + 1 : 0
  c.header('Cache-Control', 'no-store')
  return streamSSE(c, async (stream) => {
    let aborted = false
    stream.onAbort(() => {
      aborted = true
    })
    const started = Date.now()
    let polls = 0
    while (!aborted && Date.now() - started < MAX_STREAM_MS) {
      let fresh: unknown[] = []
      try {
        fresh = await redis.lrange(eventsKey(job.id), cursor, -1)
      } catch {
        // Redis unreachable: fall back to the row below.
      }
      for (const raw of fresh) {
        const event = (typeof raw === 'string' ? JSON.parse(raw) : raw) as JobEvent
        await stream.writeSSE({
          id: String(cursor),
          event: event.type,
          data: JSON.stringify(event),
        })
        cursor++
        if (event.type === 'status' && isTerminal(event.status)) return
      }
      if (polls % ROW_CHECK_EVERY === 0) {
        const [row] = await db
          .select()
          .from(jobs)
          .where(and(eq(jobs.id, job.id), eq(jobs.workspaceId, job.workspaceId)))
        // Terminal in the row but not in the list: the list expired, Redis lost it, or the job
        // was cancelled by the API (which writes no event).
        if (row && isTerminal(row.status) && fresh.length === 0) {
          await stream.writeSSE({
            id: String(cursor),
            event: 'status',
            data: JSON.stringify(rowEvent(row)),
          })
          return
        }
      }
      polls++
      await stream.sleep(POLL_MS)
    }
  })
}
