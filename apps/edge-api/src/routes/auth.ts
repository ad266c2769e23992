import { createRoute, z } from '@hono/zod-openapi'
import {
  and,
  asc,
  eq,
  sql,
  users,
  workspaceInvitations,
  workspaceMembers,
  workspaces,
} from '@synthstack/db'
import type { Context } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import { markStale, sessionCacheKey } from '../auth/cache'
import {
  assertLoginAllowed,
  clearLoginFailures,
  clientIp,
  recordLoginFailure,
} from '../auth/login-throttle'
import { burnPasswordCheck, hashPassword, needsRehash, verifyPassword } from '../auth/password'
import { createSession, deleteSession, SESSION_COOKIE } from '../auth/sessions'
import { ApiError } from '../errors'
import { checkOrigin, requireAuth, sessionHashOf, workspaceNotFound } from '../middleware/auth'
import { createRouter } from '../router'
import { authErrorResponses, authSecurity, ErrorSchema, errorResponses } from '../schemas'
import { getDb, getRedis } from '../stores'
import type { AppEnv } from '../types'
import { waitUntil } from '../wait-until'

/** Emails are compared and stored trimmed, NFKC-normalised and lower-cased. */
export const normalizeEmail = (email: string) => email.trim().normalize('NFKC').toLowerCase()

export const EmailSchema = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email('must be an email address'))
  .transform(normalizeEmail)
  .openapi({ example: 'ada@example.com' })
const PasswordSchema = z
  .string()
  .min(10, 'must be at least 10 characters')
  .max(200, 'must be at most 200 characters')
  .openapi({ example: 'correct horse battery staple' })

export const UserSchema = z
  .object({ id: z.string().uuid(), email: z.string(), name: z.string().nullable() })
  .openapi('User')
export const WorkspaceSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    plan: z.enum(['free', 'pro', 'enterprise']),
    created_at: z.string(),
  })
  .openapi('Workspace')
const SessionSchema = z
  .object({
    token: z.string().openapi({
      description:
        'Session token for `Authorization: Bearer`. Browsers use the HttpOnly cookie instead; ' +
        'the web app must not store this value.',
    }),
    expires_at: z.string(),
  })
  .openapi('Session')
const AuthResultSchema = z
  .object({
    user: UserSchema,
    workspace: WorkspaceSchema,
    role: z.enum(['owner', 'admin', 'member']),
    session: SessionSchema,
  })
  .openapi('AuthResult')

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } })

const signupRoute = createRoute({
  method: 'post',
  path: '/v1/auth/signup',
  tags: ['Accounts'],
  summary: 'Create an account and its first workspace',
  description:
    'Creates the user, a workspace they own (plus any workspaces that invited this email) and a ' +
    'session, sent as the `ss_session` cookie and returned as a bearer token.',
  request: {
    body: {
      required: true,
      ...json(
        z.object({
          email: EmailSchema,
          password: PasswordSchema,
          name: z.string().trim().min(1).max(200).optional(),
          workspace_name: z.string().trim().min(1).max(200).optional(),
        }),
      ),
    },
  },
  responses: {
    201: { description: 'Signed up', ...json(AuthResultSchema) },
    400: { description: 'Invalid input', ...json(ErrorSchema) },
    403: { description: 'Cross-site request refused', ...json(ErrorSchema) },
    409: { description: 'Email already registered', ...json(ErrorSchema) },
    ...errorResponses,
  },
})

const loginRoute = createRoute({
  method: 'post',
  path: '/v1/auth/login',
  tags: ['Accounts'],
  summary: 'Sign in',
  description:
    'Checks the password (PBKDF2-SHA256). Repeated failures per account and per IP answer 429 ' +
    'with `Retry-After`.',
  request: {
    body: {
      required: true,
      ...json(
        z.object({
          email: EmailSchema,
          password: z.string().min(1).max(200),
          workspace_id: z.string().uuid().optional(),
        }),
      ),
    },
  },
  responses: {
    200: { description: 'Signed in', ...json(AuthResultSchema) },
    400: { description: 'Invalid input', ...json(ErrorSchema) },
    401: { description: 'Wrong email or password', ...json(ErrorSchema) },
    403: { description: 'Cross-site request refused', ...json(ErrorSchema) },
    404: { description: 'Not a member of workspace_id', ...json(ErrorSchema) },
    429: { description: 'Too many failed attempts', ...json(ErrorSchema) },
    503: { description: 'Sign-in throttling store unavailable', ...json(ErrorSchema) },
    ...errorResponses,
  },
})

const logoutRoute = createRoute({
  method: 'post',
  path: '/v1/auth/logout',
  tags: ['Accounts'],
  summary: 'Sign out (ends this session)',
  security: authSecurity,
  middleware: [requireAuth({ sessionOnly: true, rateLimit: false })] as const,
  responses: { 204: { description: 'Signed out' }, ...authErrorResponses },
})

const MeSchema = z
  .object({
    user: UserSchema.nullable(),
    workspace: WorkspaceSchema,
    role: z.enum(['owner', 'admin', 'member']),
    scopes: z.array(z.string()),
    auth_method: z.enum(['session_cookie', 'session_bearer', 'api_key']),
    api_key_id: z.string().uuid().nullable(),
  })
  .openapi('Me')

const meRoute = createRoute({
  method: 'get',
  path: '/v1/me',
  tags: ['Accounts'],
  summary: 'The caller: user (or API key), workspace, role and scopes',
  security: authSecurity,
  middleware: [requireAuth()] as const,
  request: {
    headers: z.object({
      'x-workspace-id': z.string().uuid().optional().openapi({
        description: 'Sessions: act in this workspace instead of the default one',
      }),
    }),
  },
  responses: { 200: { description: 'The caller', ...json(MeSchema) }, ...authErrorResponses },
})

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Secure everywhere except plain-http localhost during development. */
function setSessionCookie(c: Context<AppEnv>, token: string, expiresAt: Date) {
  const url = new URL(c.req.url)
  const localDev =
    url.protocol === 'http:' &&
    LOCAL_HOSTS.has(url.hostname) &&
    c.get('config').ENVIRONMENT !== 'production'
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    secure: !localDev,
    sameSite: 'Lax',
    path: '/',
    expires: expiresAt,
  })
}

/** Login CSRF: a browser form on another site must not sign the victim into an account. */
const originGuard = (c: Context<AppEnv>) => {
  if (c.req.header('Origin') !== undefined) checkOrigin(c)
}

const isUniqueViolation = (error: unknown): boolean => {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true
    if (e instanceof Error && /duplicate key|unique constraint/i.test(e.message)) return true
  }
  return false
}

const workspaceOut = (w: { id: string; name: string; plan: string; createdAt: Date }) => ({
  id: w.id,
  name: w.name,
  plan: w.plan as 'free' | 'pro' | 'enterprise',
  created_at: w.createdAt.toISOString(),
})

export const auth = createRouter()
  .openapi(signupRoute, async (c) => {
    originGuard(c)
    const body = c.req.valid('json')
    const config = c.get('config')
    const db = getDb(config)
    const userId = crypto.randomUUID()
    const workspaceId = crypto.randomUUID()
    const passwordHash = await hashPassword(body.password, config.PASSWORD_PBKDF2_ITERATIONS)
    const workspaceName =
      body.workspace_name ?? `${body.name ?? body.email.split('@')[0]}'s workspace`
    let created: Awaited<ReturnType<typeof insertAccount>>
    async function insertAccount() {
      // One transaction (neon-http batch): user, workspace, ownership, accepted invitations.
      return db.batch([
        db
          .insert(users)
          .values({ id: userId, email: body.email, name: body.name ?? null, passwordHash })
          .returning(),
        db.insert(workspaces).values({ id: workspaceId, name: workspaceName }).returning(),
        db.insert(workspaceMembers).values({ workspaceId, userId, role: 'owner' }),
        db.insert(workspaceMembers).select(
          db
            .select({
              workspaceId: workspaceInvitations.workspaceId,
              userId: sql<string>`${userId}::uuid`.as('user_id'),
              role: workspaceInvitations.role,
              createdAt: workspaceInvitations.createdAt,
            })
            .from(workspaceInvitations)
            .where(eq(workspaceInvitations.email, body.email)),
        ),
        db.delete(workspaceInvitations).where(eq(workspaceInvitations.email, body.email)),
      ])
    }
    try {
      created = await insertAccount()
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ApiError(409, {
          type: 'conflict_error',
          code: 'email_taken',
          message: 'An account with this email already exists.',
          param: 'email',
        })
      }
      throw error
    }
    const [user] = created[0]
    const [workspace] = created[1]
    if (!user || !workspace) throw new Error('signup returned no rows')
    const session = await createSession(db, userId, workspaceId, config.SESSION_TTL_SECONDS)
    setSessionCookie(c, session.token, session.expiresAt)
    return c.json(
      {
        user: { id: user.id, email: user.email, name: user.name },
        workspace: workspaceOut(workspace),
        role: 'owner' as const,
        session: { token: session.token, expires_at: session.expiresAt.toISOString() },
      },
      201,
    )
  })
  .openapi(loginRoute, async (c) => {
    originGuard(c)
    const body = c.req.valid('json')
    const config = c.get('config')
    const db = getDb(config)
    const redis = getRedis(config)
    const ip = clientIp(c.req.header('CF-Connecting-IP'))
    const limits = {
      perAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      perIp: config.LOGIN_MAX_FAILURES_PER_IP,
      windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS,
    }
    await assertLoginAllowed(redis, body.email, ip, limits)
    const [user] = await db.select().from(users).where(eq(users.email, body.email)).limit(1)
    let ok = false
    if (user) ok = await verifyPassword(body.password, user.passwordHash)
    else await burnPasswordCheck(body.password, config.PASSWORD_PBKDF2_ITERATIONS)
    if (!user || !ok) {
      await recordLoginFailure(redis, body.email, ip, limits)
      throw new ApiError(401, {
        type: 'authentication_error',
        code: 'invalid_credentials',
        message: 'Wrong email or password.',
      })
    }
    waitUntil(c, 'clear login failures', clearLoginFailures(redis, body.email))
    if (needsRehash(user.passwordHash, config.PASSWORD_PBKDF2_ITERATIONS)) {
      waitUntil(
        c,
        'password rehash',
        hashPassword(body.password, config.PASSWORD_PBKDF2_ITERATIONS).then((passwordHash) =>
          db.update(users).set({ passwordHash }).where(eq(users.id, user.id)),
        ),
      )
    }
    const memberships = await db
      .select({ workspace: workspaces, role: workspaceMembers.role })
      .from(workspaceMembers)
      .innerJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
      .where(
        body.workspace_id
          ? and(
              eq(workspaceMembers.userId, user.id),
              eq(workspaceMembers.workspaceId, body.workspace_id),
            )
          : eq(workspaceMembers.userId, user.id),
      )
      .orderBy(asc(workspaceMembers.createdAt))
      .limit(1)
    let membership = memberships[0]
    if (!membership) {
      if (body.workspace_id) throw workspaceNotFound()
      // Removed from every workspace: give the user a fresh one of their own.
      const id = crypto.randomUUID()
      const name = `${user.name ?? user.email.split('@')[0]}'s workspace`
      const [[workspace]] = await db.batch([
        db.insert(workspaces).values({ id, name }).returning(),
        db.insert(workspaceMembers).values({ workspaceId: id, userId: user.id, role: 'owner' }),
      ])
      if (!workspace) throw new Error('workspace insert returned no row')
      membership = { workspace, role: 'owner' }
    }
    const session = await createSession(
      db,
      user.id,
      membership.workspace.id,
      config.SESSION_TTL_SECONDS,
    )
    setSessionCookie(c, session.token, session.expiresAt)
    return c.json(
      {
        user: { id: user.id, email: user.email, name: user.name },
        workspace: workspaceOut(membership.workspace),
        role: membership.role,
        session: { token: session.token, expires_at: session.expiresAt.toISOString() },
      },
      200,
    )
  })
  .openapi(logoutRoute, async (c) => {
    const auth = c.get('auth')
    const config = c.get('config')
    if (auth.sessionId) await deleteSession(getDb(config), auth.sessionId)
    // After the database: every isolate's next request with this token goes to Postgres (gone).
    const hash = sessionHashOf(auth)
    if (hash) {
      await markStale(getRedis(config), sessionCacheKey(hash)).catch((error: unknown) => {
        console.warn(
          `logout: auth cache not updated: ${error instanceof Error ? error.name : 'error'}`,
        )
      })
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/' })
    return c.body(null, 204)
  })
  .openapi(meRoute, async (c) => {
    const auth = c.get('auth')
    const db = getDb(c.get('config'))
    const [[workspace], [user]] = await Promise.all([
      db.select().from(workspaces).where(eq(workspaces.id, auth.workspaceId)),
      auth.userId
        ? db
            .select({ id: users.id, email: users.email, name: users.name })
            .from(users)
            .where(eq(users.id, auth.userId))
        : Promise.resolve([]),
    ])
    if (!workspace) throw workspaceNotFound()
    return c.json(
      {
        user: user ?? null,
        workspace: workspaceOut(workspace),
        role: auth.role,
        scopes: [...auth.scopes],
        auth_method: auth.via,
        api_key_id: auth.apiKeyId,
      },
      200,
    )
  })
