import type { WorkspacePlan, WorkspaceRole } from '@synthstack/db'
import type { Redis } from '@upstash/redis/cloudflare'
import { redisKey } from '../stores'

/**
 * The auth cache in Redis: what a request needs to know about its session and membership, so
 * the steady state asks Postgres nothing (docs/auth.md, "Hot path").
 *
 *   ss:session:<sha256 of token>   { sessionId, userId, expiresAt, workspaceId }  (default ws)
 *   ss:member:<workspace>:<user>   { role, plan }
 *
 * Entries are filled after a database read with `SET NX` and live CACHE_SECONDS (a session entry
 * never outlives the session). Logout, a role change and a member's removal overwrite the entry
 * with a tombstone (`{ stale: true }`, no NX) after the database change: a tombstone sends the
 * request to Postgres, and because fills use NX a read that started before the change cannot put
 * the old record back. API keys use the same scheme in src/api-keys/keys.ts.
 */
export const CACHE_SECONDS = 60

export interface CachedSession {
  sessionId: string
  userId: string
  /** Epoch milliseconds. */
  expiresAt: number
  /** The session's default workspace. */
  workspaceId: string
}

export interface CachedMember {
  role: WorkspaceRole
  plan: WorkspacePlan
}

export interface Tombstone {
  stale: true
}

export const sessionCacheKey = (hash: string) => redisKey('session', hash)
export const memberCacheKey = (workspaceId: string, userId: string) =>
  redisKey('member', workspaceId, userId)

/** A cache read: the value, `null` on a miss, or `undefined` when Redis could not be asked. */
export type CacheRead<T> = T | Tombstone | null | undefined

export const isTombstone = (value: unknown): value is Tombstone =>
  typeof value === 'object' && value !== null && (value as Tombstone).stale === true

/**
 * Reads one cache entry. Uses GETEX (without options it is GET) on purpose: `@upstash/redis`
 * auto-pipelining sends read-only commands (GET) and others (the rate limiter's EVALSHA) as two
 * separate HTTP requests; GETEX rides in the same request as the rate limit, so a request costs
 * one Redis round trip. Never throws: `onError` is told and the result is `undefined`.
 */
export function readCache<T>(
  redis: Redis,
  key: string,
  onError: (error: unknown) => void,
): Promise<CacheRead<T>> {
  return redis.getex<T | Tombstone>(key).then(
    (value) => value ?? null,
    (error: unknown) => {
      onError(error)
      return undefined
    },
  )
}

/** Fills an entry after a database read; NX so that a tombstone written meanwhile wins. */
export async function fillCache(
  redis: Redis,
  key: string,
  value: object,
  seconds = CACHE_SECONDS,
): Promise<void> {
  if (seconds < 1) return
  await redis.set(key, value, { ex: Math.floor(seconds), nx: true })
}

/** Marks an entry stale after a database change, in every isolate, from the next request on. */
export async function markStale(redis: Redis, key: string): Promise<void> {
  await redis.set(key, { stale: true } satisfies Tombstone, { ex: CACHE_SECONDS })
}

/**
 * Per-isolate hints: who a credential belonged to and its workspace plan, seen within the last
 * HINT_MS. They decide nothing about access; they only let the rate limit (and the budget read)
 * go out in the same Redis request as the cache read. Every request still validates the
 * credential against Redis or Postgres; a stale hint at worst counts one request against the
 * old limit.
 */
export interface Hint {
  /** Rate-limit identifier: `key:<id>` or `user:<id>`. */
  identifier: string
  userId: string | null
  workspaceId: string
  plan: WorkspacePlan
  at: number
}

const HINT_MS = 30_000
const HINT_MAX = 10_000
const hints = new Map<string, Hint>()

export function getHint(key: string, now = Date.now()): Hint | undefined {
  const hint = hints.get(key)
  if (!hint) return undefined
  if (hint.at + HINT_MS <= now) {
    hints.delete(key)
    return undefined
  }
  return hint
}

export function setHint(key: string, hint: Omit<Hint, 'at'>, now = Date.now()): void {
  if (hints.size >= HINT_MAX) hints.clear()
  hints.set(key, { ...hint, at: now })
}
