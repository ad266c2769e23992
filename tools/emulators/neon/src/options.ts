export type NeonEmulatorBackend = 'pglite' | 'postgres'

export interface NeonEmulatorOptions {
  /** Default 4444; 0 = ephemeral. */
  port?: number
  /** Default '127.0.0.1'. */
  host?: string
  /** Default 'pglite'. */
  backend?: NeonEmulatorBackend
  /** PGlite only; undefined = in memory; created if missing; data persists across restarts. */
  dataDir?: string
  /** Postgres only; default 'postgres://postgres@127.0.0.1:5432/test'. */
  postgresUrl?: string
  /**
   * PGlite only: the one role, password and database clients must name (default `postgres` for
   * each); anything else is refused the way Neon refuses it. With the postgres backend the
   * real server checks credentials itself.
   */
  user?: string
  password?: string
  database?: string
}

export const DEFAULT_PORT = 4444
export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test'
export const DEFAULT_USER = 'postgres'
export const DEFAULT_PASSWORD = 'postgres'
export const DEFAULT_DATABASE = 'postgres'

/**
 * Reads NEON_EMULATOR_PORT, NEON_EMULATOR_HOST, NEON_EMULATOR_BACKEND (pglite|postgres),
 * NEON_EMULATOR_DATA_DIR, NEON_EMULATOR_POSTGRES_URL and, for PGlite, NEON_EMULATOR_USER,
 * NEON_EMULATOR_PASSWORD and NEON_EMULATOR_DATABASE. Unset or empty variables leave the
 * default; a bad value throws an Error naming the variable (never showing a password).
 */
export function neonEmulatorOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): NeonEmulatorOptions {
  const options: NeonEmulatorOptions = {}
  const read = (name: string) => {
    const value = env[name]?.trim()
    return value ? value : undefined
  }
  const port = read('NEON_EMULATOR_PORT')
  if (port !== undefined) options.port = parsePort(port, 'NEON_EMULATOR_PORT')
  const host = read('NEON_EMULATOR_HOST')
  if (host !== undefined) options.host = host
  const backend = read('NEON_EMULATOR_BACKEND')
  if (backend !== undefined) {
    if (backend !== 'pglite' && backend !== 'postgres') {
      throw new Error(`NEON_EMULATOR_BACKEND must be "pglite" or "postgres", got "${backend}"`)
    }
    options.backend = backend
  }
  const dataDir = read('NEON_EMULATOR_DATA_DIR')
  if (dataDir !== undefined) options.dataDir = dataDir
  const postgresUrl = read('NEON_EMULATOR_POSTGRES_URL')
  if (postgresUrl !== undefined) {
    validatePostgresUrl(postgresUrl, 'NEON_EMULATOR_POSTGRES_URL')
    options.postgresUrl = postgresUrl
  }
  const user = read('NEON_EMULATOR_USER')
  if (user !== undefined) options.user = validateName(user, 'NEON_EMULATOR_USER')
  // Read untrimmed: spaces may be part of a password.
  const password = env.NEON_EMULATOR_PASSWORD
  if (password) options.password = validatePassword(password, 'NEON_EMULATOR_PASSWORD')
  const database = read('NEON_EMULATOR_DATABASE')
  if (database !== undefined) options.database = validateName(database, 'NEON_EMULATOR_DATABASE')
  return options
}

// PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes; a longer name could never match.
const MAX_NAME_BYTES = 63

/** A role or database name: non-empty, at most 63 bytes, no NUL (it ends wire strings). */
export function validateName(value: string, name: string): string {
  if (value === '' || value.includes('\0') || Buffer.byteLength(value) > MAX_NAME_BYTES) {
    throw new Error(`${name} must be 1 to ${MAX_NAME_BYTES} bytes without NUL characters`)
  }
  return value
}

/** A password: non-empty, no NUL. The message never repeats the value. */
export function validatePassword(value: string, name: string): string {
  if (value === '' || value.includes('\0')) {
    throw new Error(`${name} must be a non-empty string without NUL characters`)
  }
  return value
}

export function parsePort(value: string | number, name: string): number {
  const text = String(value)
  const port = Number(text)
  if (!/^\d+$/.test(text) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} must be a port number between 0 and 65535, got "${text}"`)
  }
  return port
}

export function validatePostgresUrl(value: string, name: string): void {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Error(`${name} is not a valid postgres:// URL`)
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`${name} must start with postgres:// or postgresql://`)
  }
  if (!url.hostname) throw new Error(`${name} has no host`)
}

/** The URL with any password replaced by `***`, for logs and messages. */
export function maskCredentials(value: string): string {
  try {
    const url = new URL(value)
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    return value.replace(/\/\/[^@/]*@/, '//***@')
  }
}
