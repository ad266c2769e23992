import { createSql } from '@synthstack/db'
import type { Config } from '../config'
import { JobsError } from '../errors'

export type Sql = ReturnType<typeof createSql>

/** neon-http for this worker's config; every statement is one HTTP round trip, no pool to end. */
export function sqlFor(config: Config): Sql {
  if (!config.DATABASE_URL) {
    throw new JobsError('Worker misconfigured: check DATABASE_URL', {
      status: 500,
      type: 'server_error',
      code: 'config_invalid',
    })
  }
  return createSql({
    DATABASE_URL: config.DATABASE_URL,
    NEON_EMULATOR_URL: config.NEON_EMULATOR_URL,
  })
}

/** Rows of a parameterised statement, typed by the caller. */
export async function rows<T>(sql: Sql, text: string, params: unknown[] = []): Promise<T[]> {
  return (await sql.query(text, params)) as T[]
}
