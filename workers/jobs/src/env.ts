import type { RequestIdVariables } from 'hono/request-id'
import type { Config } from './config'

/** Worker bindings: `[vars]` from wrangler.toml plus secrets. Validated by `loadConfig`. */
export interface Bindings {
  ENVIRONMENT?: string
  QSTASH_CURRENT_SIGNING_KEY?: string
  QSTASH_NEXT_SIGNING_KEY?: string
  JOBS_PUBLIC_URL?: string
  QSTASH_CLOCK_TOLERANCE_SECONDS?: string
  JOBS_MAX_BODY_BYTES?: string
  JOBS_ENABLE_TEST_JOBS?: string
  DATABASE_URL?: string
  NEON_EMULATOR_URL?: string
  JOBS_LOCK_SECONDS?: string
  RESEND_API_KEY?: string
  RESEND_API_URL?: string
  EMAIL_FROM?: string
  QSTASH_URL?: string
  QSTASH_TOKEN?: string
  WEBHOOK_SECRETS_KEY?: string
  ML_NODE_URL?: string
  ML_NODE_API_KEY?: string
  UPSTASH_REDIS_REST_URL?: string
  UPSTASH_REDIS_REST_TOKEN?: string
}

/** What QStash told us about the delivery, from its headers. */
export interface Delivery {
  /** `Upstash-Message-Id`; null when the header is absent. */
  messageId: string | null
  /** `Upstash-Retried`: 0 on the first attempt. */
  retried: number
}

export type AppEnv = {
  Bindings: Bindings
  Variables: RequestIdVariables & {
    config: Config
    /** The request body exactly as signed; read once by verify-qstash. */
    rawBody: string
    delivery: Delivery
  }
}
