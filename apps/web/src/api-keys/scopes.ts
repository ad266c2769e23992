import type { Client, InferRequestType, SuccessBody } from '@synthstack/sdk'

export type ApiKey = SuccessBody<
  Awaited<ReturnType<Client['v1']['api-keys']['$get']>>
>['data'][number]
export type CreatedApiKey = SuccessBody<Awaited<ReturnType<Client['v1']['api-keys']['$post']>>>
export type Scope = InferRequestType<Client['v1']['api-keys']['$post']>['json']['scopes'][number]

/** Every scope a key can have, in the order the form shows them, with what it allows. */
export const SCOPES: readonly { id: Scope; label: string; help: string }[] = [
  { id: 'chat', label: 'Chat', help: 'Chat completions' },
  { id: 'embeddings', label: 'Embeddings', help: 'Create embeddings' },
  { id: 'knowledge:read', label: 'Knowledge: read', help: 'Search and ask' },
  { id: 'knowledge:write', label: 'Knowledge: write', help: 'Upload and delete documents' },
  { id: 'jobs', label: 'Jobs', help: 'Queue and read background jobs' },
  { id: 'admin', label: 'Admin', help: 'Manage keys, members and usage (acts as admin)' },
]

export const scopeLabel = (id: string): string => SCOPES.find((s) => s.id === id)?.label ?? id

/** Keys that still work first (newest first, as the API sends them), revoked ones last. */
export function sortKeys(keys: readonly ApiKey[]): ApiKey[] {
  return [...keys].sort((a, b) => Number(a.revoked_at !== null) - Number(b.revoked_at !== null))
}

export type KeyState = 'active' | 'revoked' | 'expired'

export function keyState(key: ApiKey, now = Date.now()): KeyState {
  if (key.revoked_at) return 'revoked'
  if (key.expires_at && Date.parse(key.expires_at) <= now) return 'expired'
  return 'active'
}
