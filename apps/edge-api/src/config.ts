import { z } from 'zod'
import type { Env } from './env'

/** An unset variable and an empty one mean the same: absent. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional())
const required = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema)

const parses = (value: string) => {
  try {
    new URL(value)
    return true
  } catch {
    return false
  }
}

const httpUrl = z
  .string()
  .refine((value) => /^https?:\/\//.test(value) && parses(value), 'must be an http(s) URL')
const postgresUrl = z
  .string()
  .refine(
    (value) => /^postgres(ql)?:\/\//.test(value) && parses(value),
    'must be a postgres:// connection string',
  )
const secret = z.string().min(8, 'is too short')

/** A whole number from a string binding, within bounds, with a default. */
const int = (fallback: number, min: number, max: number, unit = 'a whole number') =>
  optional(
    z.coerce
      .number({ error: `must be ${unit}` })
      .int(`must be ${unit}`)
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  ).transform((value) => value ?? fallback)

export const configSchema = z
  .object({
    ENVIRONMENT: optional(
      z.enum(['development', 'test', 'staging', 'production'], {
        error: 'must be one of development, test, staging, production',
      }),
    ).transform((value) => value ?? 'development'),
    LOG_LEVEL: optional(
      z.enum(['debug', 'info', 'warn', 'error'], {
        error: 'must be one of debug, info, warn, error',
      }),
    ).transform((value) => value ?? 'info'),
    DATABASE_URL: required(postgresUrl),
    NEON_EMULATOR_URL: optional(httpUrl),
    UPSTASH_REDIS_REST_URL: required(httpUrl),
    UPSTASH_REDIS_REST_TOKEN: required(secret),
    QSTASH_URL: optional(httpUrl).transform((value) => value ?? 'https://qstash.upstash.io'),
    QSTASH_TOKEN: required(secret),
    QSTASH_CURRENT_SIGNING_KEY: required(secret),
    QSTASH_NEXT_SIGNING_KEY: required(secret),
    JOBS_WORKER_URL: optional(httpUrl),
    ML_NODE_URL: optional(httpUrl),
    ML_NODE_API_KEY: optional(z.string()),
    OPENAI_API_KEY: optional(z.string()),
    VECTOR_BACKEND: optional(
      z.enum(['pgvector', 'qdrant'], { error: 'must be pgvector or qdrant' }),
    ).transform((value) => value ?? 'pgvector'),
    QDRANT_URL: optional(httpUrl),
    QDRANT_API_KEY: optional(z.string()),
    CORS_ORIGINS: optional(z.string()).transform((value) =>
      (value ?? '')
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    ),
    API_REFERENCE_CDN_URL: optional(httpUrl),
    HEALTH_CHECK_TIMEOUT_MS: optional(
      z.coerce
        .number({ error: 'must be a number of milliseconds' })
        .int('must be a whole number of milliseconds')
        .min(50, 'must be at least 50')
        .max(30_000, 'must be at most 30000'),
    ).transform((value) => value ?? 2000),
    // Accounts (docs/auth.md). workerd refuses PBKDF2 above 100,000 iterations.
    PASSWORD_PBKDF2_ITERATIONS: int(100_000, 1_000, 100_000),
    SESSION_TTL_SECONDS: int(7 * 24 * 3600, 60, 90 * 24 * 3600, 'a number of seconds'),
    LOGIN_MAX_FAILURES_PER_ACCOUNT: int(5, 1, 1_000),
    LOGIN_MAX_FAILURES_PER_IP: int(50, 1, 100_000),
    LOGIN_FAILURE_WINDOW_SECONDS: int(900, 1, 86_400, 'a number of seconds'),
    // Plans (docs/limits.md): requests per minute per key or user, tokens per calendar month.
    RATE_LIMIT_PER_MINUTE_FREE: int(60, 1, 1_000_000),
    RATE_LIMIT_PER_MINUTE_PRO: int(600, 1, 1_000_000),
    RATE_LIMIT_PER_MINUTE_ENTERPRISE: int(6_000, 1, 1_000_000),
    // How long the limiter waits for Redis before letting the request through (fail-open).
    RATE_LIMIT_TIMEOUT_MS: int(1_000, 50, 60_000, 'a number of milliseconds'),
    TOKEN_BUDGET_MONTHLY_FREE: int(1_000_000, 0, 1e12),
    TOKEN_BUDGET_MONTHLY_PRO: int(50_000_000, 0, 1e12),
    TOKEN_BUDGET_MONTHLY_ENTERPRISE: int(1_000_000_000, 0, 1e12),
    // Usage metering: events are written in batches after the response.
    USAGE_FLUSH_MS: int(50, 0, 10_000, 'a number of milliseconds'),
    USAGE_BATCH_MAX: int(100, 1, 1_000),
    ML_NODE_TIMEOUT_MS: int(30_000, 100, 300_000, 'a number of milliseconds'),
    // Background jobs (workers/jobs/README.md): deliveries in flight per priority lane (QStash
    // queue), and on the long lane of long-running job types (workflow.run).
    JOBS_PARALLELISM_HIGH: int(20, 1, 1_000),
    JOBS_PARALLELISM_NORMAL: int(10, 1, 1_000),
    JOBS_PARALLELISM_LOW: int(2, 1, 1_000),
    JOBS_PARALLELISM_LONG: int(10, 1, 1_000),
    /** Accept test-only job types (system.flaky, system.sleep); the worker must agree. */
    JOBS_ENABLE_TEST_JOBS: optional(
      z.enum(['true', 'false'], { error: 'must be true or false' }),
    ).transform((value) => value === 'true'),
    /** Encrypts webhook signing secrets at rest (AES-GCM); at least 32 characters. */
    WEBHOOK_SECRETS_KEY: optional(z.string().min(32, 'must be at least 32 characters')),
  })
  .superRefine((config, ctx) => {
    if (config.VECTOR_BACKEND === 'qdrant' && !config.QDRANT_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['QDRANT_URL'],
        message: 'is required when VECTOR_BACKEND is qdrant',
      })
    }
    if (config.ENVIRONMENT === 'production' && config.NEON_EMULATOR_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['NEON_EMULATOR_URL'],
        message: 'must not be set in production',
      })
    }
    if (config.ENVIRONMENT === 'production' && config.PASSWORD_PBKDF2_ITERATIONS < 100_000) {
      ctx.addIssue({
        code: 'custom',
        path: ['PASSWORD_PBKDF2_ITERATIONS'],
        message: 'must be 100000 in production',
      })
    }
  })

export type Config = z.output<typeof configSchema>

/** One problem with one variable; carries the variable's name, never its value. */
export interface ConfigIssue {
  variable: string
  problem: string
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(readonly issues: ConfigIssue[]) {
    super(`Invalid configuration: ${issues.map((i) => `${i.variable} ${i.problem}`).join('; ')}`)
  }
}

/** Parses the bindings. Messages name variables and what is wrong, never what was given. */
export function parseConfig(env: Env): Config {
  const raw = env as Record<string, unknown>
  const result = configSchema.safeParse(env)
  if (result.success) return result.data
  const issues = result.error.issues.map((issue): ConfigIssue => {
    const variable = String(issue.path[0] ?? 'configuration')
    const value = raw[variable]
    const missing = value === undefined || value === null || value === ''
    if (missing && issue.code !== 'custom') return { variable, problem: 'is required' }
    if (issue.code === 'invalid_type') return { variable, problem: 'must be a string' }
    return { variable, problem: issue.message }
  })
  throw new ConfigError(issues)
}

/**
 * Bindings are fixed for an isolate's lifetime, so the parsed config is kept per env object:
 * validation runs once per isolate, on first use (a bad config fails every request alike).
 */
const cache = new WeakMap<object, Config | ConfigError>()

export function getConfig(env: Env): Config {
  let entry = cache.get(env)
  if (!entry) {
    try {
      entry = parseConfig(env)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      entry = error
    }
    cache.set(env, entry)
  }
  if (entry instanceof ConfigError) throw entry
  return entry
}
