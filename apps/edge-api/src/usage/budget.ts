import type { Redis } from '@upstash/redis/cloudflare'
import { ApiError } from '../errors'
import { redisKey } from '../stores'

/** Calendar month in UTC, `YYYY-MM`: the budget period. */
export const monthOf = (date: Date) => date.toISOString().slice(0, 7)

export const nextMonthStart = (date: Date) =>
  new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1))

/** Redis counter of tokens a workspace used this month; metering increments it. */
export const tokenCounterKey = (workspaceId: string, date = new Date()) =>
  redisKey('tokens', workspaceId, monthOf(date))

/**
 * Reads this month's tokens; null when Redis cannot be asked. GETEX (= GET without options)
 * rides in the same auto-pipelined request as the rate limit (src/auth/cache.ts, readCache).
 */
export async function tokensUsed(redis: Redis, workspaceId: string): Promise<number | null> {
  try {
    return Number((await redis.getex<number>(tokenCounterKey(workspaceId))) ?? 0)
  } catch {
    return null
  }
}

/** The clear error once a workspace's monthly budget is spent (SDKs are told not to retry). */
export function budgetExceeded(used: number, budget: number, now = new Date()): ApiError {
  const resets = nextMonthStart(now).toISOString()
  return new ApiError(429, {
    type: 'insufficient_quota',
    code: 'token_budget_exceeded',
    message: `This workspace has used its monthly token budget (${used} of ${budget} tokens). It resets at ${resets}; upgrade the plan for more.`,
    headers: { 'x-should-retry': 'false' },
  })
}
