import type { Hono } from 'hono'
import { type ClientResponse, hc } from 'hono/client'
import type { SuccessStatusCode } from 'hono/utils/http-status'
import type { ApiSchema } from './schema.generated.js'

export type { ClientResponse, InferRequestType, InferResponseType } from 'hono/client'
export type { ApiSchema } from './schema.generated.js'

/**
 * The edge API as `hc` sees it: its routes, inputs and outputs (generated from the server's own
 * `AppType` into `schema.generated.ts`, so the published package needs no server sources).
 */
// biome-ignore lint/suspicious/noExplicitAny: the client reads routes only, not the app's env
export type AppType = Hono<any, ApiSchema, '/'>

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
 * Typed client for the SynthStack Edge API: `hc` from hono/client over the app's routes, so
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

/**
 * The body of a call's 2xx answers, from its response type: for apps that turn every non-2xx
 * answer into an error, e.g. `SuccessBody<Awaited<ReturnType<Client['v1']['me']['$get']>>>`.
 */
export type SuccessBody<R> =
  R extends ClientResponse<infer T, infer S, infer _F>
    ? S extends SuccessStatusCode
      ? T
      : never
    : never
