import { env } from 'cloudflare:test'
import { createDb, eq, withPoolDb, workspaces } from '@synthstack/db'
import { describe, expect, it } from 'vitest'

// @synthstack/db's two Worker paths, run inside workerd against the Neon emulator: neon-http for
// one-shot queries and a WebSocket Pool opened and ended within the call for transactions.
const dbEnv = { DATABASE_URL: env.DATABASE_URL as string, NEON_EMULATOR_URL: env.NEON_EMULATOR_URL }

describe('@synthstack/db in workerd', () => {
  it('queries over HTTP and commits or rolls back over a per-call Pool', async () => {
    const name = `workerd-${crypto.randomUUID()}`
    await expect(
      withPoolDb(dbEnv, (db) =>
        db.transaction(async (tx) => {
          await tx.insert(workspaces).values({ name })
          throw new Error('roll back')
        }),
      ),
    ).rejects.toThrow('roll back')
    const http = createDb(dbEnv)
    expect(await http.select().from(workspaces).where(eq(workspaces.name, name))).toEqual([])

    const [created] = await withPoolDb(dbEnv, (db) =>
      db.transaction((tx) => tx.insert(workspaces).values({ name, plan: 'pro' }).returning()),
    )
    const [found] = await http
      .select()
      .from(workspaces)
      .where(eq(workspaces.id, created?.id ?? ''))
    expect(found).toMatchObject({ name, plan: 'pro' })
  })
})
