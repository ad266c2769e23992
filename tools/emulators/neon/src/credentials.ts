// The PGlite backend's one role, password and database, and how a wrong one is refused.
//
// On Neon the proxy, not Postgres, checks the password (neondatabase/neon, proxy/src/auth):
// a wrong password and an unknown role both fail with "password authentication failed for
// user '<role>'" (single quotes, so an unknown role is not revealed). Only after that does
// the compute see the database name, and Postgres answers `database "<db>" does not exist`
// (3D000). Errors the proxy writes on the wire are `ErrorResponse{S: ERROR, C: XX000, M}`
// whatever their cause (proxy/src/stream.rs, `throw_error`; see pglite-backend.ts); the HTTP
// answers are in `checkHttpCredentials` below.
import {
  DEFAULT_DATABASE,
  DEFAULT_PASSWORD,
  DEFAULT_USER,
  type NeonEmulatorOptions,
} from './options'
import { SqlHttpError } from './sql-over-http'

export interface EmulatorCredentials {
  user: string
  password: string
  database: string
}

export function credentialsOf(options: NeonEmulatorOptions): EmulatorCredentials {
  return {
    user: options.user ?? DEFAULT_USER,
    password: options.password ?? DEFAULT_PASSWORD,
    database: options.database ?? DEFAULT_DATABASE,
  }
}

/** What a client presented: from a startup packet and password message, or a URL. */
export interface PresentedCredentials {
  user: string
  password: string | undefined
  database: string
}

export type CredentialsVerdict = 'ok' | 'password-failed' | 'unknown-database'

/** The password (and role) is checked before the database, as on Neon and in PostgreSQL. */
export function checkCredentials(
  expected: EmulatorCredentials,
  presented: PresentedCredentials,
): CredentialsVerdict {
  if (presented.user !== expected.user || presented.password !== expected.password) {
    return 'password-failed'
  }
  if (presented.database !== expected.database) return 'unknown-database'
  return 'ok'
}

export function passwordFailedMessage(user: string): string {
  return `password authentication failed for user '${user}'`
}

export function unknownDatabaseMessage(database: string): string {
  return `database "${database}" does not exist`
}

/** `postgres://user:password@host/database`, each part URL-encoded. */
export function connectionStringFor(credentials: EmulatorCredentials, hostAndPort: string): string {
  const { user, password, database } = credentials
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${hostAndPort}/${encodeURIComponent(database)}`
}

/**
 * The SQL-over-HTTP check, answered as Neon's proxy answers it (proxy/src/serverless): a
 * missing password or a wrong role/password is HTTP 400 with `code: ''`; an unknown database
 * is refused by Postgres while connecting, which Neon answers with HTTP 500 and the 3D000
 * error's fields.
 */
export function checkHttpCredentials(
  expected: EmulatorCredentials,
  presented: PresentedCredentials,
): EmulatorCredentials {
  if (presented.password === undefined) {
    throw new SqlHttpError(400, 'missing authentication credentials: required password')
  }
  const verdict = checkCredentials(expected, presented)
  if (verdict === 'password-failed') {
    throw new SqlHttpError(400, passwordFailedMessage(presented.user))
  }
  if (verdict === 'unknown-database') {
    throw new SqlHttpError(500, unknownDatabaseMessage(presented.database), {
      severity: 'FATAL',
      code: '3D000',
      file: 'postinit.c',
      routine: 'InitPostgres',
    })
  }
  return expected
}
