import type { Redis } from '@upstash/redis/cloudflare'
import { ApiError } from '../errors'
import { redisKey } from '../stores'
import { sha256Hex } from './crypto'

/**
 * Failed-login throttling in Redis, per account and per client IP: after
 * LOGIN_MAX_FAILURES_PER_ACCOUNT (or _PER_IP) failures within LOGIN_FAILURE_WINDOW_SECONDS,
 * further attempts answer 429 with `Retry-After` until the window passes. A success clears the
 * account's count. Fail-closed: when Redis cannot be asked, logins answer 503 (docs/auth.md), so
 * knocking Redis over never lifts the brute-force limit.
 */
export interface ThrottleLimits {
  perAccount: number
  perIp: number
  windowSeconds: number
}

const keys = async (email: string, ip: string) => ({
  account: redisKey('login', 'acct', await sha256Hex(email)),
  ip: redisKey('login', 'ip', ip),
})

const unavailable = () =>
  new ApiError(503, {
    type: 'server_error',
    code: 'login_unavailable',
    message: 'Sign-in is temporarily unavailable; try again shortly.',
    headers: { 'Retry-After': '5' },
  })

export async function assertLoginAllowed(
  redis: Redis,
  email: string,
  ip: string,
  limits: ThrottleLimits,
): Promise<void> {
  const k = await keys(email, ip)
  let counts: [number | null, number | null, number, number]
  try {
    counts = await redis
      .pipeline()
      .get<number>(k.account)
      .get<number>(k.ip)
      .pttl(k.account)
      .pttl(k.ip)
      .exec()
  } catch {
    throw unavailable()
  }
  const [account, byIp, accountTtl, ipTtl] = counts
  const blocked: number[] = []
  if (Number(account ?? 0) >= limits.perAccount) blocked.push(accountTtl)
  if (Number(byIp ?? 0) >= limits.perIp) blocked.push(ipTtl)
  if (blocked.length === 0) return
  const retryAfter = Math.max(1, Math.ceil(Math.max(...blocked) / 1000))
  throw new ApiError(429, {
    type: 'rate_limit_error',
    code: 'too_many_login_attempts',
    message: `Too many failed sign-in attempts. Try again in ${retryAfter} s.`,
    headers: { 'Retry-After': String(retryAfter) },
  })
}

export async function recordLoginFailure(
  redis: Redis,
  email: string,
  ip: string,
  limits: ThrottleLimits,
): Promise<void> {
  const k = await keys(email, ip)
  try {
    await redis
      .pipeline()
      // The window starts at the first failure (SET NX EX), later ones only count.
      .set(k.account, 0, { nx: true, ex: limits.windowSeconds })
      .incr(k.account)
      .set(k.ip, 0, { nx: true, ex: limits.windowSeconds })
      .incr(k.ip)
      .exec()
  } catch {
    throw unavailable()
  }
}

export async function clearLoginFailures(redis: Redis, email: string): Promise<void> {
  const k = await keys(email, 'none')
  await redis.del(k.account)
}

/** The client's IP as Cloudflare reports it (`CF-Connecting-IP`); `unknown` elsewhere. */
export const clientIp = (header: string | undefined) =>
  header && /^[0-9a-fA-F.:]{2,45}$/.test(header) ? header : 'unknown'
