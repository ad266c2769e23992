import type { WorkspacePlan } from '@synthstack/db'
import type { Config } from './config'

/** What a workspace's plan allows: requests per minute (per key or user) and tokens per month. */
export interface PlanLimits {
  requestsPerMinute: number
  /** 0 means no token budget. */
  monthlyTokens: number
}

export function planLimits(config: Config, plan: WorkspacePlan): PlanLimits {
  switch (plan) {
    case 'enterprise':
      return {
        requestsPerMinute: config.RATE_LIMIT_PER_MINUTE_ENTERPRISE,
        monthlyTokens: config.TOKEN_BUDGET_MONTHLY_ENTERPRISE,
      }
    case 'pro':
      return {
        requestsPerMinute: config.RATE_LIMIT_PER_MINUTE_PRO,
        monthlyTokens: config.TOKEN_BUDGET_MONTHLY_PRO,
      }
    default:
      return {
        requestsPerMinute: config.RATE_LIMIT_PER_MINUTE_FREE,
        monthlyTokens: config.TOKEN_BUDGET_MONTHLY_FREE,
      }
  }
}
