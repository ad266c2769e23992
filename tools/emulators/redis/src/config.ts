/** Options of the emulator and the environment variables that set them. */

export type BackendKind = 'mock' | 'redis'

export interface RedisEmulatorOptions {
  /** HTTP port; default 8079, 0 picks a free port. */
  port?: number
  /** Interface to listen on; default 127.0.0.1. */
  host?: string
  /** Bearer token clients must send; default {@link DEFAULT_TOKEN}. */
  token?: string
  /** `mock` (in-process ioredis-mock, default) or `redis` (a real Redis at `redisUrl`). */
  backend?: BackendKind
  /** Real Redis for the `redis` backend; default redis://127.0.0.1:6379. */
  redisUrl?: string
}

export const DEFAULT_PORT = 8079
export const DEFAULT_HOST = '127.0.0.1'
/** Well-known development token. It guards nothing secret: the emulator is a dev/test tool. */
export const DEFAULT_TOKEN = 'synthstack-dev-token'
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'

export interface ResolvedOptions {
  port: number
  host: string
  token: string
  backend: BackendKind
  redisUrl: string
}

export function resolveOptions(options: RedisEmulatorOptions = {}): ResolvedOptions {
  const port = options.port ?? DEFAULT_PORT
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`port must be an integer from 0 to 65535, got ${port}`)
  }
  const token = options.token ?? DEFAULT_TOKEN
  if (token.length === 0) throw new Error('token must not be empty')
  const backend = options.backend ?? 'mock'
  if (backend !== 'mock' && backend !== 'redis') {
    throw new Error(`backend must be 'mock' or 'redis', got '${String(backend)}'`)
  }
  return {
    port,
    host: options.host ?? DEFAULT_HOST,
    token,
    backend,
    redisUrl: options.redisUrl ?? DEFAULT_REDIS_URL,
  }
}

/**
 * Reads REDIS_EMULATOR_PORT, REDIS_EMULATOR_HOST, REDIS_EMULATOR_TOKEN, REDIS_EMULATOR_BACKEND
 * (mock|redis) and REDIS_EMULATOR_REDIS_URL. Unset or empty variables keep the defaults; a bad
 * value throws an Error that names the variable (and never echoes a token).
 */
export function redisEmulatorOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): RedisEmulatorOptions {
  const options: RedisEmulatorOptions = {}
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value ? value : undefined
  }

  const port = read('REDIS_EMULATOR_PORT')
  if (port !== undefined) {
    const parsed = /^\d+$/.test(port) ? Number(port) : Number.NaN
    if (!Number.isInteger(parsed) || parsed > 65535) {
      throw new Error(`REDIS_EMULATOR_PORT must be an integer from 0 to 65535, got '${port}'`)
    }
    options.port = parsed
  }

  const host = read('REDIS_EMULATOR_HOST')
  if (host !== undefined) {
    if (/\s|\//.test(host)) {
      throw new Error(`REDIS_EMULATOR_HOST must be a host name or IP address, got '${host}'`)
    }
    options.host = host
  }

  const token = read('REDIS_EMULATOR_TOKEN')
  if (token !== undefined) {
    if (/\s/.test(token)) throw new Error('REDIS_EMULATOR_TOKEN must not contain whitespace')
    options.token = token
  }

  const backend = read('REDIS_EMULATOR_BACKEND')
  if (backend !== undefined) {
    if (backend !== 'mock' && backend !== 'redis') {
      throw new Error(`REDIS_EMULATOR_BACKEND must be 'mock' or 'redis', got '${backend}'`)
    }
    options.backend = backend
  }

  const redisUrl = read('REDIS_EMULATOR_REDIS_URL')
  if (redisUrl !== undefined) {
    let url: URL
    try {
      url = new URL(redisUrl)
    } catch {
      throw new Error('REDIS_EMULATOR_REDIS_URL must be a redis:// or rediss:// URL')
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new Error('REDIS_EMULATOR_REDIS_URL must be a redis:// or rediss:// URL')
    }
    options.redisUrl = redisUrl
  }

  return options
}
