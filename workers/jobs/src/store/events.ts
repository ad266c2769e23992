import { EVENTS_TTL_SECONDS, eventsKey, type JobEvent } from '@synthstack/jobs'
import { Redis } from '@upstash/redis'
import type { Config } from '../config'

const clients = new Map<string, Redis>()

/** The Upstash client for this config, or null when Redis is not configured. */
export function redisFor(config: Config): Redis | null {
  if (!config.UPSTASH_REDIS_REST_URL || !config.UPSTASH_REDIS_REST_TOKEN) return null
  const key = `${config.UPSTASH_REDIS_REST_URL}|${config.UPSTASH_REDIS_REST_TOKEN}`
  let client = clients.get(key)
  if (!client) {
    client = new Redis({
      url: config.UPSTASH_REDIS_REST_URL,
      token: config.UPSTASH_REDIS_REST_TOKEN,
      enableTelemetry: false,
    })
    clients.set(key, client)
  }
  return client
}

/**
 * Appends one event to the job's list (RPUSH + EXPIRE in one pipeline). The API streams the
 * list over SSE. Progress is best effort: a Redis failure is logged, never fails the job.
 */
export function pushEvent(config: Config, jobId: string, event: JobEvent): Promise<void> {
  return pushEvents(config, jobId, [event])
}

/** Appends events in order, in one pipeline (one RPUSH of them all + EXPIRE); best effort. */
export async function pushEvents(config: Config, jobId: string, events: JobEvent[]): Promise<void> {
  const redis = redisFor(config)
  if (!redis || events.length === 0) return
  try {
    const p = redis.pipeline()
    p.rpush(eventsKey(jobId), ...events.map((event) => JSON.stringify(event)))
    p.expire(eventsKey(jobId), EVENTS_TTL_SECONDS)
    await p.exec()
  } catch (error) {
    console.warn(
      JSON.stringify({
        level: 'warn',
        msg: 'job event not recorded',
        job_id: jobId,
        error: error instanceof Error ? error.name : 'unknown',
      }),
    )
  }
}
