/** Options, their defaults and the environment loader. */

/** The official QStash dev server's published credentials (see @upstash/qstash dev mode). */
export const DEV_CREDENTIALS = {
  token: 'eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=',
  currentSigningKey: 'sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r',
  nextSigningKey: 'sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs',
} as const

export const DEFAULT_PORT = 8080
export const DEFAULT_HOST = '127.0.0.1'

export interface QStashEmulatorOptions {
  /** default 8080 (the SDK's dev-mode default); 0 = ephemeral */
  port?: number
  /** default '127.0.0.1' */
  host?: string
  /** where state persists; undefined = memory only */
  dataDir?: string
  /** default 1; 0.01 makes every delay/backoff/schedule wait 100x shorter (for tests) */
  timeScale?: number
  /** default: the official dev server's published dev token */
  token?: string
  currentSigningKey?: string
  nextSigningKey?: string
  /** upper bound on deliveries in flight at once, across all messages (default 100) */
  maxConcurrency?: number
  /** per-attempt HTTP timeout when a message sets no Upstash-Timeout, in ms (default 300000) */
  defaultTimeoutMs?: number
}

export interface ResolvedOptions {
  port: number
  host: string
  dataDir: string | undefined
  timeScale: number
  token: string
  currentSigningKey: string
  nextSigningKey: string
  maxConcurrency: number
  defaultTimeoutMs: number
}

export function resolveOptions(options: QStashEmulatorOptions = {}): ResolvedOptions {
  const timeScale = options.timeScale ?? 1
  if (!(Number.isFinite(timeScale) && timeScale > 0)) {
    throw new Error(`timeScale must be a positive number, got ${options.timeScale}`)
  }
  const port = options.port ?? DEFAULT_PORT
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`port must be an integer between 0 and 65535, got ${options.port}`)
  }
  const maxConcurrency = options.maxConcurrency ?? 100
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
    throw new Error('maxConcurrency must be a positive integer')
  }
  return {
    port,
    host: options.host ?? DEFAULT_HOST,
    dataDir: options.dataDir,
    timeScale,
    token: options.token ?? DEV_CREDENTIALS.token,
    currentSigningKey: options.currentSigningKey ?? DEV_CREDENTIALS.currentSigningKey,
    nextSigningKey: options.nextSigningKey ?? DEV_CREDENTIALS.nextSigningKey,
    maxConcurrency,
    defaultTimeoutMs: options.defaultTimeoutMs ?? 300_000,
  }
}

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]
  if (value === undefined) return undefined
  if (value.trim() === '') throw new Error(`${name} must not be empty`)
  return value
}

/**
 * Reads QSTASH_EMULATOR_PORT, QSTASH_EMULATOR_HOST, QSTASH_EMULATOR_DATA_DIR,
 * QSTASH_EMULATOR_TIME_SCALE, QSTASH_TOKEN, QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY.
 * Bad values throw an error that names the variable (never its secret value).
 */
export function qstashEmulatorOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): QStashEmulatorOptions {
  const options: QStashEmulatorOptions = {}
  const port = nonEmpty(env, 'QSTASH_EMULATOR_PORT')
  if (port !== undefined) {
    const n = Number(port)
    if (!/^\d+$/.test(port.trim()) || n > 65535) {
      throw new Error(`QSTASH_EMULATOR_PORT must be an integer between 0 and 65535, got "${port}"`)
    }
    options.port = n
  }
  const host = nonEmpty(env, 'QSTASH_EMULATOR_HOST')
  if (host !== undefined) options.host = host
  const dataDir = nonEmpty(env, 'QSTASH_EMULATOR_DATA_DIR')
  if (dataDir !== undefined) options.dataDir = dataDir
  const scale = nonEmpty(env, 'QSTASH_EMULATOR_TIME_SCALE')
  if (scale !== undefined) {
    const n = Number(scale)
    if (!Number.isFinite(n) || n <= 0) {
      throw new Error(`QSTASH_EMULATOR_TIME_SCALE must be a positive number, got "${scale}"`)
    }
    options.timeScale = n
  }
  const token = nonEmpty(env, 'QSTASH_TOKEN')
  if (token !== undefined) options.token = token
  const current = nonEmpty(env, 'QSTASH_CURRENT_SIGNING_KEY')
  if (current !== undefined) options.currentSigningKey = current
  const next = nonEmpty(env, 'QSTASH_NEXT_SIGNING_KEY')
  if (next !== undefined) options.nextSigningKey = next
  return options
}
