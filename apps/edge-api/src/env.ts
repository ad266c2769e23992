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
}
