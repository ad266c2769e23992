import { Ratelimit } from '@upstash/ratelimit'
import type { Redis } from '@upstash/redis/cloudflare'
import { ApiError } from '../errors'

/**
 * Requests per minute per caller (`key:<id>` or `user:<id>`), sliding window, with
 * `@upstash/ratelimit`. One limiter per (Redis client, limit, timeout), kept for the isolate, so
 * the library's in-memory block cache answers repeat offenders without a round trip.
 */
const limiters = new WeakMap<Redis, Map<string, Ratelimit>>()

function limiterFor(redis: Redis, perMinute: number, timeoutMs: number): Ratelimit {
  let byLimit = limiters.get(redis)
  if (!byLimit) {
    byLimit = new Map()
    limiters.set(redis, byLimit)
  }
  const key = `${perMinute}/${timeoutMs}`
  let limiter = byLimit.get(key)
  if (!limiter) {
    limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(perMinute, '1 m'),
      prefix: `ss:rl:${perMinute}`,
      analytics: false,
      // A slow Redis lets the request through after this long (fail-open, docs/limits.md).
      timeout: timeoutMs,
      enableProtection: false,
    })
    byLimit.set(key, limiter)
  }
  return limiter
}

export interface RateLimitOutcome {
  limit: number
  remaining: number
  /** Seconds until the window frees capacity. */
  resetSeconds: number
}

export const rateLimitHeaders = (outcome: RateLimitOutcome): Record<string, string> => ({
  'RateLimit-Limit': String(outcome.limit),
  'RateLimit-Remaining': String(outcome.remaining),
  'RateLimit-Reset': String(outcome.resetSeconds),
})

/**
 * Counts one request. Returns the headers to send, or null when Redis could not be asked
 * (fail-open: the request goes on and a warning is logged). Throws the 429 envelope, with
 * `Retry-After`, when the caller is over the limit.
 */
export async function checkRateLimit(
  redis: Redis,
  identifier: string,
  perMinute: number,
  timeoutMs: number,
  warn: (message: string) => void,
): Promise<RateLimitOutcome | null> {
  let result: Awaited<ReturnType<Ratelimit['limit']>>
  try {
    result = await limiterFor(redis, perMinute, timeoutMs).limit(identifier)
  } catch (error) {
    warn(`rate limit skipped, Redis unreachable: ${error instanceof Error ? error.name : 'error'}`)
    return null
  }
  if (result.reason === 'timeout') {
    warn('rate limit skipped, Redis timed out')
    return null
  }
  const outcome: RateLimitOutcome = {
    limit: result.limit,
    remaining: Math.max(0, result.remaining),
    resetSeconds: Math.max(1, Math.ceil((result.reset - Date.now()) / 1000)),
  }
  if (!result.success) {
    throw new ApiError(429, {
      type: 'rate_limit_error',
      code: 'rate_limit_exceeded',
      message: `Rate limit reached: ${outcome.limit} requests per minute. Retry after ${outcome.resetSeconds} s.`,
      headers: { ...rateLimitHeaders(outcome), 'Retry-After': String(outcome.resetSeconds) },
    })
  }
  return outcome
}
