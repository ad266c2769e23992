import type { MiddlewareHandler } from 'hono'
import { requireAuth } from '../middleware/auth'
import { createRouter } from '../router'
import type { AppEnv } from '../types'
import { recordUsage } from '../usage/meter'

/**
 * Trivial routes for `pnpm bench:edge` (bench/edge): the same handler bare, behind auth + rate
 * limit + metering (`/_bench/authed`), and with pieces turned off for the time breakdown
 * (`/_bench/auth-only`: no rate limit, no metering; `/_bench/auth-limit`: no metering). They
 * answer 404 unless BENCH_ROUTES=true (never set in staging or production), and are left out of
 * the OpenAPI document.
 */
const enabled = (flag: string | undefined) => flag === 'true'

const guard: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!enabled(c.env.BENCH_ROUTES)) return c.notFound()
  await next()
}

export const benchRoutes = createRouter()
  .get('/_bench/bare', (c) => {
    if (!enabled(c.env.BENCH_ROUTES)) return c.notFound()
    return c.json({ ok: true })
  })
  .get('/_bench/auth-only', guard, requireAuth({ rateLimit: false }), (c) => c.json({ ok: true }))
  .get('/_bench/auth-limit', guard, requireAuth(), (c) => c.json({ ok: true }))
  .get('/_bench/authed', guard, requireAuth(), (c) => {
    recordUsage(c, {
      route: 'GET /_bench/authed',
      model: 'bench',
      tokensIn: 0,
      tokensOut: 0,
      status: 200,
      latencyMs: 0,
    })
    return c.json({ ok: true })
  })
