import {
  and,
  eq,
  type HttpDb,
  sessions,
  type WorkspacePlan,
  type WorkspaceRole,
  workspaceMembers,
  workspaces,
} from '@synthstack/db'
import { randomToken, sha256Hex } from './crypto'

/**
 * Sessions are opaque random tokens (256 bits, `ss_` prefix); the database keeps only their
 * SHA-256, so a leaked table cannot be replayed. Why not signed tokens: docs/auth.md.
 */
export const SESSION_TOKEN_PREFIX = 'ss_'
export const SESSION_COOKIE = 'ss_session'

export const newSessionToken = () => `${SESSION_TOKEN_PREFIX}${randomToken(32)}`

export const isSessionToken = (token: string) =>
  token.startsWith(SESSION_TOKEN_PREFIX) && token.length >= 20 && token.length <= 100

export async function createSession(
  db: HttpDb,
  userId: string,
  workspaceId: string,
  ttlSeconds: number,
): Promise<{ token: string; expiresAt: Date }> {
  const token = newSessionToken()
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000)
  await db
    .insert(sessions)
    .values({ tokenHash: await sha256Hex(token), userId, workspaceId, expiresAt })
  return { token, expiresAt }
}

export interface SessionLookup {
  sessionId: string
  userId: string
  expiresAt: Date
  /** The session's default workspace. */
  defaultWorkspaceId: string
  /** Null when the user is not a member of the requested (or default) workspace. */
  membership: { workspaceId: string; role: WorkspaceRole; plan: WorkspacePlan } | null
}

/**
 * One query: the session by its token's SHA-256, and the user's membership in the wanted
 * workspace (else the session's default one).
 */
export async function lookupSession(
  db: HttpDb,
  hash: string,
  workspaceId: string | undefined,
): Promise<SessionLookup | null> {
  const rows = await db
    .select({
      sessionId: sessions.id,
      userId: sessions.userId,
      expiresAt: sessions.expiresAt,
      defaultWorkspaceId: sessions.workspaceId,
      memberWorkspaceId: workspaceMembers.workspaceId,
      role: workspaceMembers.role,
      plan: workspaces.plan,
    })
    .from(sessions)
    .leftJoin(
      workspaceMembers,
      and(
        eq(workspaceMembers.userId, sessions.userId),
        workspaceId
          ? eq(workspaceMembers.workspaceId, workspaceId)
          : eq(workspaceMembers.workspaceId, sessions.workspaceId),
      ),
    )
    .leftJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
    .where(eq(sessions.tokenHash, hash))
    .limit(1)
  const row = rows[0]
  if (!row) return null
  return {
    sessionId: row.sessionId,
    userId: row.userId,
    expiresAt: row.expiresAt,
    defaultWorkspaceId: row.defaultWorkspaceId,
    membership:
      row.memberWorkspaceId && row.role && row.plan
        ? { workspaceId: row.memberWorkspaceId, role: row.role, plan: row.plan }
        : null,
  }
}

export async function deleteSession(db: HttpDb, sessionId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, sessionId))
}
