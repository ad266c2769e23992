import type { AppType } from '@synthstack/edge-api'
import { hc } from 'hono/client'

export type { AppType } from '@synthstack/edge-api'

export interface ClientOptions {
  /** The edge API's origin, e.g. `https://api.synthstack.dev`. */
  baseUrl: string
  /** An API key (`sk_live_…`) or a session token (`ss_…`). Omit in the browser: the cookie is used. */
  token?: string
  /** Act in this workspace (sessions only; a key always acts in its own). */
  workspaceId?: string
  /** A custom fetch (tests, proxies, instrumentation). */
  fetch?: typeof fetch
}

/**
 * Typed client for the SynthStack Edge API: `hc` from hono/client over the app's own type, so
 * paths, inputs and JSON outputs are checked at compile time against the server code.
 *
 *   const api = createClient({ baseUrl, token: process.env.SYNTHSTACK_API_KEY })
 *   const res = await api.v1.me.$get()
 *   if (res.ok) console.log((await res.json()).workspace.name)
 */
export function createClient(options: ClientOptions) {
  const headers: Record<string, string> = {}
  if (options.token) headers.Authorization = `Bearer ${options.token}`
  if (options.workspaceId) headers['X-Workspace-Id'] = options.workspaceId
  return hc<AppType>(options.baseUrl.replace(/\/+$/, ''), {
    headers,
    // Browsers send the session cookie cross-origin only with credentials: 'include'.
    init: { credentials: 'include' } as unknown as RequestInit,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })
}

export type Client = ReturnType<typeof createClient>

/** The error envelope every failure uses. */
export interface ApiErrorBody {
  error: {
    type: string
    code: string
    message: string
    param: string | null
    request_id: string | null
  }
}
