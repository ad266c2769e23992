/**
 * Authentication, workspace resolution, CSRF and rate limiting: the one middleware every
 * protected route uses.
 *
 *   requireAuth(options?)  Accepts, in this order:
 *     - `Authorization: Bearer sk_live_…`  an API key (its workspace, its scopes);
 *     - `Authorization: Bearer ss_…`       a session token (API clients of the web login);
 *     - cookie `ss_session`                the web app's session (HttpOnly; Secure; SameSite=Lax).
 *   Workspace: an API key's own; for sessions the route's `{workspace_id}` path parameter, else
 *   the `X-Workspace-Id` header, else the session's default workspace. Not a member (or another
 *   workspace than the key's) → 404 `workspace_not_found`, never their data.
 *   Sets `c.var.auth: AuthContext` = { userId | null, apiKeyId | null, sessionId | null,
 *   workspaceId, role, scopes, plan, via }. Sessions carry every scope (the role limits them);
 *   an API key's role is `admin` when it has the `admin` scope, else `member`.
 *   Cookie-authenticated POST/PUT/PATCH/DELETE need an `Origin` that is the API's own or listed
 *   in CORS_ORIGINS (403 `csrf_origin_mismatch`). Then counts one request against the caller's
 *   per-minute limit (per key or per user, by workspace plan), adds `RateLimit-*` headers, 429
 *   with `Retry-After` when over. Options:
 *     sessionOnly: true   refuse API keys (403 `session_required`), e.g. for account routes;
 *     rateLimit: false    skip the rate limit (e.g. logout);
 *     tokenBudget: true   also refuse with 429 `token_budget_exceeded` when the workspace's
 *                         monthly token budget is spent (billable routes).
 *   Errors: 401 `missing_credentials` | `invalid_api_key` | `api_key_revoked` | `api_key_expired`
 *   | `invalid_session` | `session_expired`.
 *
 *   requireScope(scope)    403 `missing_scope` unless c.var.auth.scopes has it.
 *   requireRole(role)      403 `insufficient_role` unless the role is at least `role`
 *                          (owner > admin > member).
 *
 * Usage: `router.use('/v1/things/*', requireAuth(), requireScope('jobs'))`, or per route with
 * `createRoute({ ..., middleware: [requireAuth(), requireRole('admin')] as const })`.
 * Hot path (docs/auth.md): the credential's Redis cache entry, the rate limit and the budget
 * counter go out in ONE Redis request (per-isolate hints name the caller and plan ahead of the
 * lookup); Postgres is asked only on a cache miss or tombstone.
 * Redis down: credentials are read from Postgres, the rate limit is skipped with a warning
 * (fail-open), the budget check is skipped (docs/limits.md).
 */
import type { ApiKeyScope, HttpDb, WorkspaceRole } from '@synthstack/db'
import { apiKeys, eq } from '@synthstack/db'
import type { Redis } from '@upstash/redis/cloudflare'
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { isApiKeyToken, readCachedKey, resolveApiKey } from '../api-keys/keys'
import {
  CACHE_SECONDS,
  type CachedMember,
  type CachedSession,
  type CacheRead,
  fillCache,
  getHint,
  type Hint,
  isTombstone,
  memberCacheKey,
  readCache,
  sessionCacheKey,
  setHint,
} from '../auth/cache'
import type { AuthContext } from '../auth/context'
import { sha256Hex } from '../auth/crypto'
import { isSessionToken, lookupSession, SESSION_COOKIE, type SessionLookup } from '../auth/sessions'
import { ApiError } from '../errors'
import { planLimits } from '../plans'
import { getDb, getRedis } from '../stores'
import type { AppEnv } from '../types'
import { budgetExceeded, tokensUsed } from '../usage/budget'
import { waitUntil } from '../wait-until'
import { checkRateLimit, type RateLimitOutcome, rateLimitHeaders } from './rate-limit'

export type { AuthContext } from '../auth/context'

export interface RequireAuthOptions {
  sessionOnly?: boolean
  rateLimit?: boolean
  tokenBudget?: boolean
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const ALL_SCOPES: readonly ApiKeyScope[] = [
  'chat',
  'embeddings',
  'knowledge:read',
  'knowledge:write',
  'jobs',
  'admin',
]
const ROLE_RANK: Record<WorkspaceRole, number> = { member: 1, admin: 2, owner: 3 }

const unauthorized = (code: string, message: string) =>
  new ApiError(401, { type: 'authentication_error', code, message })

export const workspaceNotFound = () =>
  new ApiError(404, {
    type: 'not_found_error',
    code: 'workspace_not_found',
    message: 'No such workspace.',
    param: 'workspace_id',
  })

const warn = (c: Context<AppEnv>) => (message: string) =>
  console.warn(`[${c.get('requestId')}] ${message}`)

/** The workspace a request asks for: path parameter, else header; validated as a UUID. */
function requestedWorkspace(c: Context<AppEnv>): string | undefined {
  const fromPath = c.req.param('workspace_id' as never) as string | undefined
  const fromHeader = c.req.header('X-Workspace-Id')
  const value = fromPath ?? fromHeader
  if (value === undefined || value === '') return undefined
  if (!UUID.test(value)) {
    throw new ApiError(400, {
      type: 'invalid_request_error',
      code: 'invalid_parameter',
      message: fromPath ? 'workspace_id must be a UUID' : 'X-Workspace-Id must be a UUID',
      param: fromPath ? 'workspace_id' : 'X-Workspace-Id',
    })
  }
  return value.toLowerCase()
}

/** Throttles `last_used_at` writes to one per key per minute per isolate. */
const lastUsedWrites = new Map<string, number>()
const LAST_USED_EVERY_MS = 60_000

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown }
const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )
const unwrap = <T>(settled: Settled<T>): T => {
  if (!settled.ok) throw settled.error
  return settled.value
}

/** The Redis work a request's limits need, started as early as possible. */
interface LimitChecks {
  /** What the checks were started for; compared with the authenticated caller. */
  hint: Omit<Hint, 'at'>
  limit: Promise<Settled<RateLimitOutcome | null>> | null
  used: Promise<number | null> | null
}

interface Authenticated {
  auth: AuthContext
  /** Checks started in the same tick as the credential's cache read, from an isolate hint. */
  early: LimitChecks | null
  hintKey: string
}

function startLimitChecks(
  c: Context<AppEnv>,
  options: RequireAuthOptions,
  hint: Omit<Hint, 'at'>,
): LimitChecks {
  const config = c.get('config')
  const redis = getRedis(config)
  const limits = planLimits(config, hint.plan)
  return {
    hint,
    limit:
      options.rateLimit !== false
        ? settle(
            checkRateLimit(
              redis,
              hint.identifier,
              limits.requestsPerMinute,
              config.RATE_LIMIT_TIMEOUT_MS,
              warn(c),
            ),
          )
        : null,
    used:
      options.tokenBudget && limits.monthlyTokens > 0 ? tokensUsed(redis, hint.workspaceId) : null,
  }
}

const sameHint = (a: Omit<Hint, 'at'>, b: Omit<Hint, 'at'>) =>
  a.identifier === b.identifier && a.workspaceId === b.workspaceId && a.plan === b.plan

async function authenticate(
  c: Context<AppEnv>,
  options: RequireAuthOptions,
): Promise<Authenticated> {
  const config = c.get('config')
  const header = c.req.header('Authorization')
  let token: string | undefined
  let fromCookie = false
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!match?.[1]) {
      throw unauthorized('invalid_authorization', 'Authorization must be "Bearer <token>".')
    }
    token = match[1]
  } else {
    token = getCookie(c, SESSION_COOKIE)
    fromCookie = token !== undefined
  }
  if (!token) {
    throw unauthorized(
      'missing_credentials',
      'Authentication required: send "Authorization: Bearer <API key or session token>" or sign in.',
    )
  }
  const wanted = requestedWorkspace(c)
  const db = getDb(config)
  const redis = getRedis(config)
  const wantsChecks = options.rateLimit !== false || options.tokenBudget === true
  const onCacheError = (error: unknown) =>
    warn(c)(`auth cache unavailable: ${error instanceof Error ? error.name : 'error'}`)
  const defer = (label: string, work: Promise<unknown>) => waitUntil(c, label, work)

  if (!fromCookie && isApiKeyToken(token)) {
    if (options.sessionOnly) {
      throw new ApiError(403, {
        type: 'permission_error',
        code: 'session_required',
        message: 'This route needs a signed-in user; API keys cannot use it.',
      })
    }
    const hash = await sha256Hex(token)
    const hintKey = `k:${hash}`
    const hint = wantsChecks ? getHint(hintKey) : undefined
    // Same tick: the cache read and the limit checks share one auto-pipelined request.
    const cached = readCachedKey(redis, hash, onCacheError)
    const early = hint ? startLimitChecks(c, options, hint) : null
    const key = await resolveApiKey(db, redis, hash, await cached, defer)
    if (!key) throw unauthorized('invalid_api_key', 'Invalid API key.')
    if (key.revoked) throw unauthorized('api_key_revoked', 'This API key has been revoked.')
    if (key.expiresAt !== null && key.expiresAt <= Date.now()) {
      throw unauthorized('api_key_expired', 'This API key has expired.')
    }
    if (wanted && wanted !== key.workspaceId) throw workspaceNotFound()
    const now = Date.now()
    if ((lastUsedWrites.get(key.id) ?? 0) + LAST_USED_EVERY_MS <= now) {
      lastUsedWrites.set(key.id, now)
      waitUntil(
        c,
        'api key last_used_at',
        db
          .update(apiKeys)
          .set({ lastUsedAt: new Date(now) })
          .where(eq(apiKeys.id, key.id)),
      )
    }
    return {
      auth: {
        userId: null,
        apiKeyId: key.id,
        sessionId: null,
        workspaceId: key.workspaceId,
        role: key.scopes.includes('admin') ? 'admin' : 'member',
        scopes: key.scopes,
        plan: key.plan,
        via: 'api_key',
      },
      early,
      hintKey,
    }
  }

  if (!isSessionToken(token)) {
    throw fromCookie
      ? unauthorized('invalid_session', 'Your session is not valid; sign in again.')
      : unauthorized('invalid_api_key', 'Invalid API key.')
  }
  const hash = await sha256Hex(token)
  const hintKey = `s:${hash}:${wanted ?? ''}`
  const hint = getHint(hintKey)
  // Same tick: session entry, membership entry (the hint names the user and workspace) and the
  // limit checks share one auto-pipelined request.
  const cachedSession = readCache<CachedSession>(redis, sessionCacheKey(hash), onCacheError)
  const hintedMember =
    hint?.userId != null
      ? readCache<CachedMember>(redis, memberCacheKey(hint.workspaceId, hint.userId), onCacheError)
      : null
  const early = hint && wantsChecks ? startLimitChecks(c, options, hint) : null
  const session = await resolveSession(
    db,
    redis,
    hash,
    wanted,
    await cachedSession,
    defer,
    (ws, user) =>
      hint && hintedMember && hint.workspaceId === ws && hint.userId === user
        ? hintedMember
        : readCache<CachedMember>(redis, memberCacheKey(ws, user), onCacheError),
  )
  if (!session) throw unauthorized('invalid_session', 'Your session is not valid; sign in again.')
  if (session.expiresAt.getTime() <= Date.now()) {
    throw unauthorized('session_expired', 'Your session has expired; sign in again.')
  }
  if (!session.membership) throw workspaceNotFound()
  if (fromCookie && UNSAFE.has(c.req.method)) checkOrigin(c)
  const auth: AuthContext = {
    userId: session.userId,
    apiKeyId: null,
    sessionId: session.sessionId,
    workspaceId: session.membership.workspaceId,
    role: session.membership.role,
    scopes: ALL_SCOPES,
    plan: session.membership.plan,
    via: fromCookie ? 'session_cookie' : 'session_bearer',
  }
  sessionHashes.set(auth, hash)
  return { auth, early, hintKey }
}

/** The session token's hash behind an AuthContext, for logout (never serialised). */
const sessionHashes = new WeakMap<AuthContext, string>()
export const sessionHashOf = (auth: AuthContext): string | undefined => sessionHashes.get(auth)

/**
 * The session and its membership in the wanted (else default) workspace: from the Redis cache
 * when both entries are there, else one database query whose result fills them (NX, deferred).
 */
async function resolveSession(
  db: HttpDb,
  redis: Redis,
  hash: string,
  wanted: string | undefined,
  cached: CacheRead<CachedSession>,
  defer: (label: string, work: Promise<unknown>) => void,
  readMember: (workspaceId: string, userId: string) => Promise<CacheRead<CachedMember>>,
): Promise<SessionLookup | null> {
  if (cached && !isTombstone(cached)) {
    const workspaceId = wanted ?? cached.workspaceId
    const member = await readMember(workspaceId, cached.userId)
    if (member && !isTombstone(member)) {
      return {
        sessionId: cached.sessionId,
        userId: cached.userId,
        expiresAt: new Date(cached.expiresAt),
        defaultWorkspaceId: cached.workspaceId,
        membership: { workspaceId, role: member.role, plan: member.plan },
      }
    }
  }
  const session = await lookupSession(db, hash, wanted)
  if (!session || cached === undefined) return session
  const seconds = Math.min(CACHE_SECONDS, (session.expiresAt.getTime() - Date.now()) / 1000)
  const fills: Promise<unknown>[] = []
  if (!cached) {
    const entry: CachedSession = {
      sessionId: session.sessionId,
      userId: session.userId,
      expiresAt: session.expiresAt.getTime(),
      workspaceId: session.defaultWorkspaceId,
    }
    fills.push(fillCache(redis, sessionCacheKey(hash), entry, seconds))
  }
  if (session.membership) {
    const { workspaceId, role, plan } = session.membership
    const entry: CachedMember = { role, plan }
    fills.push(fillCache(redis, memberCacheKey(workspaceId, session.userId), entry))
  }
  defer('auth cache fill', Promise.all(fills))
  return session
}

/**
 * CSRF defence for cookie-authenticated unsafe requests: the browser's `Origin` must be the
 * API's own origin or one in CORS_ORIGINS. Cross-site forms and fetches carry another origin.
 */
export function checkOrigin(c: Context<AppEnv>): void {
  const origin = c.req.header('Origin')
  const own = new URL(c.req.url).origin
  if (origin && (origin === own || c.get('config').CORS_ORIGINS.includes(origin))) return
  throw new ApiError(403, {
    type: 'permission_error',
    code: 'csrf_origin_mismatch',
    message: origin
      ? 'Cross-site request refused: this Origin is not allowed.'
      : 'Cross-site request refused: cookie-authenticated changes need an Origin header.',
  })
}

/** Sets headers on the final response (which may be immutable, e.g. a proxied one). */
export function setResponseHeaders(c: Context, headers: Record<string, string>): void {
  try {
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value)
  } catch {
    c.res = new Response(c.res.body, c.res)
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value)
  }
}

export const requireAuth =
  (options: RequireAuthOptions = {}): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const { auth, early, hintKey } = await authenticate(c, options)
    c.set('auth', auth)
    let outcome: RateLimitOutcome | null = null
    if (options.rateLimit !== false || options.tokenBudget) {
      const config = c.get('config')
      const limits = planLimits(config, auth.plan)
      const current = {
        identifier: auth.apiKeyId ? `key:${auth.apiKeyId}` : `user:${auth.userId}`,
        userId: auth.userId,
        workspaceId: auth.workspaceId,
        plan: auth.plan,
      }
      setHint(hintKey, current)
      // Steady state: started with the credential's cache read. First request in this isolate
      // (or a changed plan): started now, both still in one request.
      const checks =
        early && sameHint(early.hint, current) ? early : startLimitChecks(c, options, current)
      const [limited, used] = await Promise.all([checks.limit, checks.used])
      outcome = limited ? unwrap(limited) : null
      if (options.tokenBudget && limits.monthlyTokens > 0) {
        if (used === null || used === undefined)
          warn(c)('token budget not checked, Redis unreachable')
        else if (used >= limits.monthlyTokens) {
          const error = budgetExceeded(used, limits.monthlyTokens)
          if (outcome) Object.assign(error.headers, rateLimitHeaders(outcome))
          throw error
        }
      }
    }
    await next()
    if (outcome) setResponseHeaders(c, rateLimitHeaders(outcome))
  }

export const requireScope =
  (scope: ApiKeyScope): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const auth = c.get('auth')
    if (!auth) throw new Error('requireScope needs requireAuth before it')
    if (!auth.scopes.includes(scope)) {
      throw new ApiError(403, {
        type: 'permission_error',
        code: 'missing_scope',
        message: `This API key lacks the "${scope}" scope.`,
      })
    }
    await next()
  }

export const requireRole =
  (role: WorkspaceRole): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const auth = c.get('auth')
    if (!auth) throw new Error('requireRole needs requireAuth before it')
    if (ROLE_RANK[auth.role] < ROLE_RANK[role]) {
      throw new ApiError(403, {
        type: 'permission_error',
        code: 'insufficient_role',
        message: `This needs the ${role} role in the workspace.`,
      })
    }
    await next()
  }
