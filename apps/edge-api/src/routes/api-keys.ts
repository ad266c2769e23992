import { createRoute, z } from '@hono/zod-openapi'
import { type ApiKey, and, apiKeyScopes, apiKeys, desc, eq, isNull } from '@synthstack/db'
import { cacheRevoked, newApiKey } from '../api-keys/keys'
import { ApiError } from '../errors'
import { requireAuth, requireRole, requireScope } from '../middleware/auth'
import { createRouter } from '../router'
import { authErrorResponses, authSecurity } from '../schemas'
import { getDb, getRedis } from '../stores'

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } })

const Scope = z.enum(apiKeyScopes)
const ApiKeySchema = z
  .object({
    id: z.string().uuid(),
    object: z.literal('api_key'),
    name: z.string(),
    prefix: z.string().openapi({ example: 'sk_live_a1B2c3', description: 'Identifies the key' }),
    scopes: z.array(Scope),
    created_at: z.string(),
    last_used_at: z.string().nullable().openapi({ description: 'Updated at most once a minute' }),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey')
const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: 'The secret. Shown once; store it now.' }),
}).openapi('CreatedApiKey')
const KeyIdParam = z.object({
  key_id: z
    .string()
    .uuid()
    .openapi({ param: { name: 'key_id', in: 'path' } }),
})

const createKeyRoute = createRoute({
  method: 'post',
  path: '/v1/api-keys',
  tags: ['API keys'],
  summary: 'Create an API key (admin); the secret is in the response only',
  security: authSecurity,
  middleware: [requireAuth(), requireScope('admin'), requireRole('admin')] as const,
  request: {
    body: {
      required: true,
      ...json(
        z.object({
          name: z.string().trim().min(1).max(100),
          scopes: z.array(Scope).min(1, 'must name at least one scope'),
          expires_at: z.iso
            .datetime({ offset: true })
            .optional()
            .openapi({ description: 'When the key stops working (ISO 8601)' }),
        }),
      ),
    },
  },
  responses: {
    201: { description: 'Created', ...json(CreatedApiKeySchema) },
    ...authErrorResponses,
  },
})

const listKeysRoute = createRoute({
  method: 'get',
  path: '/v1/api-keys',
  tags: ['API keys'],
  summary: "The workspace's API keys (admin); secrets are never shown again",
  security: authSecurity,
  middleware: [requireAuth(), requireScope('admin'), requireRole('admin')] as const,
  request: {
    query: z.object({
      include_revoked: z
        .enum(['true', 'false'])
        .optional()
        .openapi({ description: 'Also list revoked keys' }),
    }),
  },
  responses: {
    200: {
      description: 'Keys',
      ...json(z.object({ object: z.literal('list'), data: z.array(ApiKeySchema) })),
    },
    ...authErrorResponses,
  },
})

const getKeyRoute = createRoute({
  method: 'get',
  path: '/v1/api-keys/{key_id}',
  tags: ['API keys'],
  summary: 'One API key (admin)',
  security: authSecurity,
  middleware: [requireAuth(), requireScope('admin'), requireRole('admin')] as const,
  request: { params: KeyIdParam },
  responses: { 200: { description: 'Key', ...json(ApiKeySchema) }, ...authErrorResponses },
})

const revokeKeyRoute = createRoute({
  method: 'delete',
  path: '/v1/api-keys/{key_id}',
  tags: ['API keys'],
  summary: 'Revoke an API key (admin); it stops working at once',
  security: authSecurity,
  middleware: [requireAuth(), requireScope('admin'), requireRole('admin')] as const,
  request: { params: KeyIdParam },
  responses: { 200: { description: 'Revoked', ...json(ApiKeySchema) }, ...authErrorResponses },
})

const out = (k: ApiKey) => ({
  id: k.id,
  object: 'api_key' as const,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes as z.infer<typeof Scope>[],
  created_at: k.createdAt.toISOString(),
  last_used_at: k.lastUsedAt?.toISOString() ?? null,
  expires_at: k.expiresAt?.toISOString() ?? null,
  revoked_at: k.revokedAt?.toISOString() ?? null,
})

const keyNotFound = () =>
  new ApiError(404, {
    type: 'not_found_error',
    code: 'api_key_not_found',
    message: 'No such API key.',
    param: 'key_id',
  })

export const apiKeyRoutes = createRouter()
  .openapi(createKeyRoute, async (c) => {
    const auth = c.get('auth')
    const body = c.req.valid('json')
    const expiresAt = body.expires_at ? new Date(body.expires_at) : null
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw new ApiError(400, {
        type: 'invalid_request_error',
        code: 'invalid_parameter',
        message: "Invalid body parameter 'expires_at': must be in the future",
        param: 'expires_at',
      })
    }
    const { secret, prefix, hash } = await newApiKey()
    const [row] = await getDb(c.get('config'))
      .insert(apiKeys)
      .values({
        workspaceId: auth.workspaceId,
        createdBy: auth.userId,
        name: body.name,
        prefix,
        keyHash: hash,
        scopes: [...new Set(body.scopes)],
        expiresAt,
      })
      .returning()
    if (!row) throw new Error('api key insert returned no row')
    c.header('Cache-Control', 'no-store')
    return c.json({ ...out(row), key: secret }, 201)
  })
  .openapi(listKeysRoute, async (c) => {
    const { workspaceId } = c.get('auth')
    const all = c.req.valid('query').include_revoked === 'true'
    const rows = await getDb(c.get('config'))
      .select()
      .from(apiKeys)
      .where(
        all
          ? eq(apiKeys.workspaceId, workspaceId)
          : and(eq(apiKeys.workspaceId, workspaceId), isNull(apiKeys.revokedAt)),
      )
      .orderBy(desc(apiKeys.createdAt))
    return c.json({ object: 'list' as const, data: rows.map(out) }, 200)
  })
  .openapi(getKeyRoute, async (c) => {
    const [row] = await getDb(c.get('config'))
      .select()
      .from(apiKeys)
      .where(
        and(
          eq(apiKeys.id, c.req.valid('param').key_id),
          eq(apiKeys.workspaceId, c.get('auth').workspaceId),
        ),
      )
    if (!row) throw keyNotFound()
    return c.json(out(row), 200)
  })
  .openapi(revokeKeyRoute, async (c) => {
    const auth = c.get('auth')
    const db = getDb(c.get('config'))
    const where = and(
      eq(apiKeys.id, c.req.valid('param').key_id),
      eq(apiKeys.workspaceId, auth.workspaceId),
    )
    // Idempotent: revoking twice keeps the first revocation time.
    const [updated] = await db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(where, isNull(apiKeys.revokedAt)))
      .returning()
    const row = updated ?? (await db.select().from(apiKeys).where(where))[0]
    if (!row) throw keyNotFound()
    // Database first, then the cache: from here every isolate sees the key as revoked.
    await cacheRevoked(getRedis(c.get('config')), {
      id: row.id,
      hash: row.keyHash,
      workspaceId: row.workspaceId,
      scopes: row.scopes as z.infer<typeof Scope>[],
      plan: 'free',
      expiresAt: row.expiresAt?.getTime() ?? null,
      revoked: true,
    }).catch((error: unknown) => {
      console.warn(
        `[${c.get('requestId')}] revoked key not written to cache: ${error instanceof Error ? error.name : 'error'}`,
      )
    })
    return c.json(out(row), 200)
  })
