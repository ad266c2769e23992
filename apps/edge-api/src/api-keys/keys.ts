import {
  type ApiKeyScope,
  apiKeys,
  eq,
  type HttpDb,
  type WorkspacePlan,
  workspaces,
} from '@synthstack/db'
import type { Redis } from '@upstash/redis/cloudflare'
import { CACHE_SECONDS, type CacheRead, fillCache, isTombstone, readCache } from '../auth/cache'
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

export { CACHE_SECONDS }

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

/** Starts the cache read for a key hash (see readCache: it shares the rate limit's request). */
export const readCachedKey = (redis: Redis, hash: string, onCacheError: (error: unknown) => void) =>
  readCache<KeyRecord>(redis, cacheKey(hash), onCacheError)

/**
 * Resolves a key from its cache read: the cached record, else the database (then cached with
 * `SET NX` through `defer`, off the response path). A tombstone also sends the lookup to the
 * database. When Redis was unreachable the database answers alone.
 */
export async function resolveApiKey(
  db: HttpDb,
  redis: Redis,
  hash: string,
  cached: CacheRead<KeyRecord>,
  defer: (label: string, work: Promise<unknown>) => void,
): Promise<KeyRecord | null> {
  const hit = cached && !isTombstone(cached) ? cached : null
  const record = hit ?? (await fromDb(db, hash))
  if (!record) return null
  // The lookup was by hash; compare again in constant time before trusting the record.
  if (!timingSafeEqual(record.hash, hash)) return null
  // NX: a revocation written meanwhile (below) wins over this possibly older read.
  if (!hit && cached !== undefined)
    defer('api key cache fill', fillCache(redis, cacheKey(hash), record))
  return record
}

/**
 * Marks a key revoked in the cache (after the database), overwriting any cached copy, so every
 * isolate rejects it from the next request on.
 */
export async function cacheRevoked(redis: Redis, record: KeyRecord): Promise<void> {
  await redis.set(cacheKey(record.hash), { ...record, revoked: true }, { ex: CACHE_SECONDS })
}
