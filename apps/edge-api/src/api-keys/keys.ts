import {
  type ApiKeyScope,
  apiKeys,
  eq,
  type HttpDb,
  type WorkspacePlan,
  workspaces,
} from '@synthstack/db'
import type { Redis } from '@upstash/redis/cloudflare'
import { randomToken, sha256Hex, timingSafeEqual } from '../auth/crypto'
import { redisKey } from '../stores'

/**
 * API keys: `sk_live_` + 32 random base64url characters (192 bits). The secret is returned
 * once; the database keeps its SHA-256 and a visible prefix (`sk_live_` + 6 characters).
 * Lookups are cached in Redis for CACHE_SECONDS under the hash; revocation overwrites that entry,
 * so a revoked key stops working on the next request.
 */
export const API_KEY_PREFIX = 'sk_live_'
const VISIBLE_CHARS = 6
export const CACHE_SECONDS = 60

export const isApiKeyToken = (token: string) =>
  token.startsWith(API_KEY_PREFIX) && token.length >= 20 && token.length <= 100

export async function newApiKey(): Promise<{ secret: string; prefix: string; hash: string }> {
  const secret = `${API_KEY_PREFIX}${randomToken(24)}`
  return {
    secret,
    prefix: secret.slice(0, API_KEY_PREFIX.length + VISIBLE_CHARS),
    hash: await sha256Hex(secret),
  }
}

/** What auth needs to know about a key; the cached form. */
export interface KeyRecord {
  id: string
  hash: string
  workspaceId: string
  scopes: ApiKeyScope[]
  plan: WorkspacePlan
  expiresAt: number | null
  revoked: boolean
}

const cacheKey = (hash: string) => redisKey('apikey', hash)

async function fromDb(db: HttpDb, hash: string): Promise<KeyRecord | null> {
  const rows = await db
    .select({
      id: apiKeys.id,
      hash: apiKeys.keyHash,
      workspaceId: apiKeys.workspaceId,
      scopes: apiKeys.scopes,
      plan: workspaces.plan,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .innerJoin(workspaces, eq(workspaces.id, apiKeys.workspaceId))
    .where(eq(apiKeys.keyHash, hash))
    .limit(1)
  const row = rows[0]
  if (!row) return null
  return {
    id: row.id,
    hash: row.hash,
    workspaceId: row.workspaceId,
    scopes: row.scopes as ApiKeyScope[],
    plan: row.plan,
    expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
    revoked: row.revokedAt !== null,
  }
}

/**
 * Finds a key by its secret: Redis cache first, the database on a miss (then cached). When
 * Redis is unreachable the database answers alone (`onCacheError` is told).
 */
export async function lookupApiKey(
  db: HttpDb,
  redis: Redis,
  secret: string,
  onCacheError: (error: unknown) => void,
): Promise<KeyRecord | null> {
  const hash = await sha256Hex(secret)
  let cached: KeyRecord | null = null
  let cacheUp = true
  try {
    cached = await redis.get<KeyRecord>(cacheKey(hash))
  } catch (error) {
    cacheUp = false
    onCacheError(error)
  }
  const record = cached ?? (await fromDb(db, hash))
  if (!record) return null
  // The lookup was by hash; compare again in constant time before trusting the record.
  if (!timingSafeEqual(record.hash, hash)) return null
  if (!cached && cacheUp) {
    try {
      // NX: a revocation written meanwhile (below) wins over this possibly older read.
      await redis.set(cacheKey(hash), record, { ex: CACHE_SECONDS, nx: true })
    } catch (error) {
      onCacheError(error)
    }
  }
  return record
}

/**
 * Marks a key revoked in the cache (after the database), overwriting any cached copy, so every
 * isolate rejects it from the next request on.
 */
export async function cacheRevoked(redis: Redis, record: KeyRecord): Promise<void> {
  await redis.set(cacheKey(record.hash), { ...record, revoked: true }, { ex: CACHE_SECONDS })
}
