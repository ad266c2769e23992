// The bundle-size floor for `pnpm bench:edge`: a Worker that uses each library the edge API is
// built on (Hono + @hono/zod-openapi with zod, drizzle over the Neon driver, @upstash/redis,
// @upstash/ratelimit, @upstash/qstash) once and does nothing else; drizzle comes through
// @synthstack/db, so the floor carries the table definitions too. Bundled like the real Worker,
// it shows how much of the edge bundle is these libraries and how much is the app.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { createDb, eq, users } from '@synthstack/db'
import { Client } from '@upstash/qstash'
import { Ratelimit } from '@upstash/ratelimit'
import { Redis } from '@upstash/redis/cloudflare'

interface Bindings {
  DATABASE_URL: string
  UPSTASH_REDIS_REST_URL: string
  UPSTASH_REDIS_REST_TOKEN: string
  QSTASH_TOKEN: string
}

const route = createRoute({
  method: 'get',
  path: '/floor',
  responses: {
    200: {
      description: 'ok',
      content: { 'application/json': { schema: z.object({ users: z.number() }) } },
    },
  },
})

const app = new OpenAPIHono<{ Bindings: Bindings }>()
app.openapi(route, async (c) => {
  const redis = new Redis({
    url: c.env.UPSTASH_REDIS_REST_URL,
    token: c.env.UPSTASH_REDIS_REST_TOKEN,
  })
  await new Ratelimit({ redis, limiter: Ratelimit.slidingWindow(10, '1 m') }).limit('floor')
  await new Client({ token: c.env.QSTASH_TOKEN }).publishJSON({ url: c.req.url, body: {} })
  const db = createDb({ DATABASE_URL: c.env.DATABASE_URL })
  const found = await db.select().from(users).where(eq(users.email, 'floor@example.com'))
  return c.json({ users: found.length }, 200)
})
app.doc31('/openapi.json', { openapi: '3.1.0', info: { title: 'floor', version: '0' } })

export default app
