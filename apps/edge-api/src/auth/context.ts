import type { ApiKeyScope, WorkspacePlan, WorkspaceRole } from '@synthstack/db'

/** Who is calling and in which workspace; set by `requireAuth()` as `c.var.auth`. */
export interface AuthContext {
  /** The signed-in user; null for API keys. */
  userId: string | null
  /** The API key used; null for sessions. */
  apiKeyId: string | null
  sessionId: string | null
  workspaceId: string
  /** Sessions: the member's role. API keys: `admin` with the admin scope, else `member`. */
  role: WorkspaceRole
  /** Sessions carry every scope (their role limits them); API keys carry their own. */
  scopes: readonly ApiKeyScope[]
  plan: WorkspacePlan
  via: 'session_cookie' | 'session_bearer' | 'api_key'
}
