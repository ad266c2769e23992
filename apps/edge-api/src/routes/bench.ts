import { requireAuth } from '../middleware/auth'
import { createRouter } from '../router'
import { recordUsage } from '../usage/meter'

/**
 * Two trivial routes for `pnpm bench:edge` (bench/edge): the same handler bare and behind auth +
 * rate limit + metering. They answer 404 unless BENCH_ROUTES=true (never set in staging or
 * production), and are left out of the OpenAPI document.
 */
const enabled = (flag: string | undefined) => flag === 'true'

export const benchRoutes = createRouter()
  .get('/_bench/bare', (c) => {
    if (!enabled(c.env.BENCH_ROUTES)) return c.notFound()
    return c.json({ ok: true })
  })
  .get(
    '/_bench/authed',
    async (c, next) => {
      if (!enabled(c.env.BENCH_ROUTES)) return c.notFound()
      await next()
    },
    requireAuth(),
    (c) => {
      recordUsage(c, {
        route: 'GET /_bench/authed',
        model: 'bench',
        tokensIn: 0,
        tokensOut: 0,
        status: 200,
        latencyMs: 0,
      })
      return c.json({ ok: true })
    },
  )
