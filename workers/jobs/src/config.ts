import * as z from 'zod'

/** The QStash dev server's published signing keys: public, so never valid in production. */
export const DEV_SIGNING_KEYS = [
  'sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r',
  'sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs',
]

const boolString = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1')

const intString = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .optional()
    .transform((value) => value ?? fallback)

const httpUrl = z.url({ protocol: /^https?$/ })

export const ConfigSchema = z
  .object({
    ENVIRONMENT: z.enum(['development', 'test', 'staging', 'production']).default('development'),
    QSTASH_CURRENT_SIGNING_KEY: z.string().min(1),
    QSTASH_NEXT_SIGNING_KEY: z.string().min(1),
    JOBS_PUBLIC_URL: httpUrl.optional(),
    QSTASH_CLOCK_TOLERANCE_SECONDS: intString(0, 300, 0),
    JOBS_MAX_BODY_BYTES: intString(1, 50 * 1024 * 1024, 1024 * 1024),
    JOBS_ENABLE_TEST_JOBS: boolString.optional().transform((value) => value ?? false),
    DATABASE_URL: z.string().min(1).optional(),
    /** Local only: the Neon emulator (http://127.0.0.1:4444). Unset in staging/production. */
    NEON_EMULATOR_URL: httpUrl.optional(),
    /** How long a running attempt holds its claim; after it a redelivery may take over. */
    JOBS_LOCK_SECONDS: intString(5, 3600, 300),
    /** email.send: Resend in production when the key is set; else the local outbox table. */
    RESEND_API_KEY: z.string().min(1).optional(),
    RESEND_API_URL: httpUrl.optional().transform((value) => value ?? 'https://api.resend.com'),
    EMAIL_FROM: z.string().min(3).max(320).optional(),
    /** For outbound webhook deliveries (published through QStash so they retry). */
    QSTASH_URL: httpUrl.optional(),
    QSTASH_TOKEN: z.string().min(1).optional(),
    /** Opens outbound endpoint secrets (same key as the edge API); a dev key outside production. */
    WEBHOOK_SECRETS_KEY: z.string().min(32).optional(),
    ML_NODE_URL: httpUrl.optional(),
    ML_NODE_API_KEY: z.string().min(1).optional(),
    UPSTASH_REDIS_REST_URL: httpUrl.optional(),
    UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  })
  .superRefine((config, ctx) => {
    if (config.ENVIRONMENT !== 'production') return
    for (const key of ['QSTASH_CURRENT_SIGNING_KEY', 'QSTASH_NEXT_SIGNING_KEY'] as const) {
      if (DEV_SIGNING_KEYS.includes(config[key])) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'is the public QStash dev key, which production refuses',
        })
      }
    }
  })

export type Config = z.output<typeof ConfigSchema>

/** Raised when the bindings do not make a valid configuration; names variables, never values. */
export class ConfigError extends Error {
  readonly variables: string[]
  constructor(variables: string[], details: string[]) {
    super(`Invalid worker configuration: ${details.join('; ')}`)
    this.name = 'ConfigError'
    this.variables = variables
  }
}

const cache = new WeakMap<object, Config>()

/**
 * Validates the Worker bindings. Empty strings count as unset. The result is cached per `env`
 * object, so a Worker isolate validates once. Throws `ConfigError`, whose message names each
 * missing or invalid variable and the rule it broke, never the value it holds.
 */
export function loadConfig(env: object): Config {
  const cached = cache.get(env)
  if (cached) return cached
  const input: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(env)) {
    if (typeof value === 'string' && value.trim() === '') continue
    input[key] = typeof value === 'string' ? value.trim() : value
  }
  const parsed = ConfigSchema.safeParse(input)
  if (!parsed.success) {
    const variables: string[] = []
    const details: string[] = []
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'env')
      if (!variables.includes(name)) variables.push(name)
      const missing = input[name] === undefined
      details.push(missing ? `${name} is missing` : `${name} ${issue.message}`)
    }
    throw new ConfigError(variables, details)
  }
  cache.set(env, parsed.data)
  return parsed.data
}
