/**
 * The Worker's bindings: `[vars]` in wrangler.toml plus secrets (`.dev.vars` locally,
 * `wrangler secret put` in staging/production). Every value is a string or absent; src/config.ts
 * validates and types them. Secrets are documented in .dev.vars.example at the repository root.
 */
export interface Env {
  ENVIRONMENT?: string
  LOG_LEVEL?: string
  /** Secret. Neon connection string (or the emulator's). */
  DATABASE_URL?: string
  /** Local only: the Neon emulator, e.g. http://127.0.0.1:4444. Unset in staging/production. */
  NEON_EMULATOR_URL?: string
  UPSTASH_REDIS_REST_URL?: string
  /** Secret. */
  UPSTASH_REDIS_REST_TOKEN?: string
  QSTASH_URL?: string
  /** Secret. */
  QSTASH_TOKEN?: string
  /** Secret. */
  QSTASH_CURRENT_SIGNING_KEY?: string
  /** Secret. */
  QSTASH_NEXT_SIGNING_KEY?: string
  JOBS_WORKER_URL?: string
  ML_NODE_URL?: string
  /** Secret. */
  ML_NODE_API_KEY?: string
  /** Secret. */
  OPENAI_API_KEY?: string
  VECTOR_BACKEND?: string
  QDRANT_URL?: string
  /** Secret. */
  QDRANT_API_KEY?: string
  CORS_ORIGINS?: string
  HEALTH_CHECK_TIMEOUT_MS?: string
  /** Where the /docs page's browser loads the Scalar script from (default: jsDelivr). */
  API_REFERENCE_CDN_URL?: string
  /** Accounts, limits and metering: see src/config.ts for defaults and docs/auth.md, docs/limits.md. */
  PASSWORD_PBKDF2_ITERATIONS?: string
  SESSION_TTL_SECONDS?: string
  LOGIN_MAX_FAILURES_PER_ACCOUNT?: string
  LOGIN_MAX_FAILURES_PER_IP?: string
  LOGIN_FAILURE_WINDOW_SECONDS?: string
  RATE_LIMIT_PER_MINUTE_FREE?: string
  RATE_LIMIT_PER_MINUTE_PRO?: string
  RATE_LIMIT_PER_MINUTE_ENTERPRISE?: string
  TOKEN_BUDGET_MONTHLY_FREE?: string
  TOKEN_BUDGET_MONTHLY_PRO?: string
  TOKEN_BUDGET_MONTHLY_ENTERPRISE?: string
  USAGE_FLUSH_MS?: string
  USAGE_BATCH_MAX?: string
  ML_NODE_TIMEOUT_MS?: string
  /** `true` enables the /_bench routes for `pnpm bench:edge`; never set it in production. */
  BENCH_ROUTES?: string
  /** Background jobs: lane parallelism, test-only job types (see src/config.ts). */
  JOBS_PARALLELISM_HIGH?: string
  JOBS_PARALLELISM_NORMAL?: string
  JOBS_PARALLELISM_LOW?: string
  JOBS_PARALLELISM_LONG?: string
  JOBS_ENABLE_TEST_JOBS?: string
  /** Secret. Encrypts inbound/outbound webhook secrets at rest. */
  WEBHOOK_SECRETS_KEY?: string
}
