import { randomBytes } from 'node:crypto'
import pg from 'pg'

export interface FreshDatabase {
  /** The server URL with the fresh database's name in place of the original one. */
  url: string
  name: string
  drop(): Promise<void>
}

const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/test'

/** `synthstack_test_<time>_<random>`: unique per stack, recognisable, a valid identifier. */
export const freshDatabaseName = () =>
  `synthstack_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`

async function withAdmin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/**
 * Creates an empty database on the server `serverUrl` points at (connecting to the database
 * named there as the maintenance database). `drop()` removes it, closing leftover sessions.
 */
export async function createFreshDatabase(serverUrl = DEFAULT_SERVER_URL): Promise<FreshDatabase> {
  const name = freshDatabaseName()
  await withAdmin(serverUrl, (client) => client.query(`create database "${name}"`))
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  let dropped: Promise<void> | undefined
  return {
    url: url.toString(),
    name,
    drop() {
      dropped ??= withAdmin(serverUrl, async (client) => {
        await client.query(`drop database if exists "${name}" with (force)`)
      })
      return dropped
    },
  }
}
