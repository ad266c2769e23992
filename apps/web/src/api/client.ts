/**
 * The web app's link to the edge API: the typed SDK (`@synthstack/sdk`, `hc<AppType>`) over a
 * fetch that adds what a browser app needs, and one function that turns answers into data or a
 * typed `ApiError`.
 *
 * - `createApiFetch()`: `credentials: 'include'` (the HttpOnly session cookie, cross-origin),
 *   `Accept: application/json`, a per-call timeout that also covers reading the body, the
 *   caller's own `signal`, and network failures as `ApiError` (`type: 'connection_error'`,
 *   code `unreachable`, `timeout` or `aborted`).
 * - `unwrap(call)`: the 2xx body, typed from the server's route definitions; any other status
 *   becomes an `ApiError` from the envelope `{"error":{"type","code","message","param",
 *   "request_id"}}` (with `Retry-After` when sent), or `type: 'invalid_response'` when the body
 *   is not the JSON we expect. Bodies that are not our envelope are never echoed.
 */
import { type Client, createClient, type SuccessBody } from '@synthstack/sdk'

/** The `error` object of the edge API's error envelope. */
export interface ApiErrorBody {
  type: string
  code: string | null
  message: string
  param: string | null
  request_id: string | null
}

export type ClientErrorCode = 'unreachable' | 'timeout' | 'aborted'

export class ApiError extends Error {
  override readonly name = 'ApiError'
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number
  readonly type: string
  readonly code: string | null
  readonly param: string | null
  readonly requestId: string | null
  /** Seconds from the `Retry-After` header (429, 503), when the API sent one. */
  readonly retryAfter: number | null
  /** The URL that was tried, without its query string (which may carry secrets). */
  readonly url: string

  constructor(init: {
    status: number
    type: string
    code?: string | null
    message: string
    param?: string | null
    requestId?: string | null
    retryAfter?: number | null
    url: string
    cause?: unknown
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause })
    this.status = init.status
    this.type = init.type
    this.code = init.code ?? null
    this.param = init.param ?? null
    this.requestId = init.requestId ?? null
    this.retryAfter = init.retryAfter ?? null
    this.url = init.url
  }

  /** True when the API could not be reached at all (network down, DNS, CORS, closed port). */
  get isConnectionError(): boolean {
    return this.type === 'connection_error'
  }
}

export interface ApiFetchOptions {
  /** Default per-call timeout, body included; 15 s. */
  timeoutMs?: number
  /** The underlying fetch; the global one by default. */
  fetch?: typeof fetch
}

export interface CallOptions {
  signal?: AbortSignal
  /** Non-2xx statuses whose body is an answer, not an error (e.g. `[503]` for `/health`). */
  acceptStatus?: readonly number[]
}

const DEFAULT_TIMEOUT_MS = 15_000
const REQUEST_ID_HEADER = 'x-request-id'
const NULL_BODY = new Set([101, 204, 205, 304])

/**
 * A fetch for the SDK: credentials, timeout (headers and body), caller's signal, and
 * `ApiError` for every failure to get an answer. The body is read here, under the same timer,
 * so a stalled stream ends as a timeout too; the returned Response holds it in memory.
 */
export function createApiFetch(options: ApiFetchOptions = {}): typeof fetch {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  return async (input, init = {}) => {
    const url = input instanceof Request ? input.url : String(input)
    const safeUrl = withoutQuery(url)
    const controller = new AbortController()
    let abortedBy: 'timeout' | 'caller' | null = null
    const timer = setTimeout(() => {
      abortedBy = 'timeout'
      controller.abort()
    }, timeoutMs)
    const callerSignal = init.signal ?? undefined
    const onCallerAbort = () => {
      abortedBy ??= 'caller'
      controller.abort()
    }
    if (callerSignal?.aborted) onCallerAbort()
    else callerSignal?.addEventListener('abort', onCallerAbort, { once: true })

    const failed = (cause: unknown): ApiError => {
      const code: ClientErrorCode =
        abortedBy === 'timeout' ? 'timeout' : abortedBy === 'caller' ? 'aborted' : 'unreachable'
      const message =
        code === 'timeout'
          ? `The API did not answer within ${timeoutMs} ms.`
          : code === 'aborted'
            ? 'The request was cancelled.'
            : `Could not reach the API at ${safeUrl}.`
      return new ApiError({
        status: 0,
        type: 'connection_error',
        code,
        message,
        url: safeUrl,
        cause,
      })
    }

    try {
      const headers = new Headers(init.headers)
      if (!headers.has('accept')) headers.set('accept', 'application/json')
      let response: Response
      try {
        response = await (options.fetch ?? globalThis.fetch)(input, {
          ...init,
          headers,
          credentials: 'include',
          signal: controller.signal,
        })
      } catch (cause) {
        throw failed(cause)
      }
      let body: ArrayBuffer
      try {
        body = await response.arrayBuffer()
      } catch (cause) {
        throw failed(cause)
      }
      const copy = new Response(NULL_BODY.has(response.status) ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      })
      Object.defineProperty(copy, 'url', { value: response.url || url })
      return copy
    } finally {
      clearTimeout(timer)
      callerSignal?.removeEventListener('abort', onCallerAbort)
    }
  }
}

export interface Api {
  /** The edge API's origin, without a trailing slash. */
  readonly baseUrl: string
  /** The typed SDK client: `api.sdk.v1.me.$get(...)`. Read it per call: a switch replaces it. */
  readonly sdk: Client
  /** The workspace every call acts in (`X-Workspace-Id`); null: the session's default one. */
  readonly workspaceId: string | null
  /** Makes every later call act in `workspaceId` (null: the session's default). */
  useWorkspace(workspaceId: string | null): void
  /** Full URL for an API path (for messages and links). */
  url(path: string): string
}

export interface CreateApiOptions extends ApiFetchOptions {
  /** The workspace to act in from the start (see `Api.useWorkspace`). */
  workspaceId?: string | null
}

/**
 * The SDK for `baseUrl`, with the browser fetch above. The workspace goes through the SDK's own
 * `workspaceId` option, so switching builds a new SDK client (cheap: `hc` is a proxy).
 */
export function createApi(baseUrl: string, options: CreateApiOptions = {}): Api {
  const base = baseUrl.replace(/\/+$/, '')
  const fetch = createApiFetch(options)
  let workspaceId = options.workspaceId ?? null
  const build = () =>
    createClient({ baseUrl: base, fetch, ...(workspaceId ? { workspaceId } : {}) })
  let sdk = build()
  return {
    baseUrl: base,
    get sdk() {
      return sdk
    },
    get workspaceId() {
      return workspaceId
    },
    useWorkspace(next) {
      if (next === workspaceId) return
      workspaceId = next
      sdk = build()
    },
    url: (path) => base + (path.startsWith('/') ? path : `/${path}`),
  }
}

/** Per-call options for the SDK (`$get(args, withSignal(signal))`). */
export function withSignal(signal: AbortSignal | undefined): { init?: RequestInit } {
  return signal ? { init: { signal } } : {}
}

interface AnyResponse {
  status: number
  ok: boolean
  url: string
  headers: Headers
  text(): Promise<string>
}

/**
 * Awaits an SDK call and returns its 2xx JSON body (undefined when empty, e.g. 204), typed from
 * the route's definition. Other statuses throw `ApiError`.
 */
export async function unwrap<R extends AnyResponse>(
  call: Promise<R>,
  options: CallOptions = {},
): Promise<SuccessBody<R>> {
  const response = await call
  return (await readAnswer(response, options)).data as SuccessBody<R>
}

/** Like `unwrap`, with the status and headers too. */
export async function readAnswer(
  response: AnyResponse,
  options: CallOptions = {},
): Promise<{ status: number; data: unknown; headers: Headers; requestId: string | null }> {
  const safeUrl = withoutQuery(response.url || 'http://unknown/')
  let text: string
  try {
    text = await response.text()
  } catch (cause) {
    throw new ApiError({
      status: response.status,
      type: 'connection_error',
      code: 'unreachable',
      message: 'The connection closed before the answer was complete.',
      url: safeUrl,
      cause,
    })
  }
  const requestId = response.headers.get(REQUEST_ID_HEADER)
  const accepted = response.ok || (options.acceptStatus?.includes(response.status) ?? false)
  const parsed = parseJson(text)
  if (accepted) {
    if (parsed.ok) {
      return { status: response.status, data: parsed.value, headers: response.headers, requestId }
    }
    throw new ApiError({
      status: response.status,
      type: 'invalid_response',
      code: 'invalid_json',
      message: `The API answered ${response.status} with a body that is not JSON.`,
      requestId,
      url: safeUrl,
    })
  }
  throw errorFromResponse(response, parsed.ok ? parsed.value : undefined, requestId, safeUrl)
}

/** Wraps anything thrown into an ApiError (for UI code that shows `error.message`). */
export function toApiError(error: unknown, url = ''): ApiError {
  if (error instanceof ApiError) return error
  return new ApiError({
    status: 0,
    type: 'client_error',
    message: error instanceof Error ? error.message : String(error),
    url,
    cause: error,
  })
}

function withoutQuery(url: string): string {
  try {
    const u = new URL(url)
    u.search = ''
    u.hash = ''
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return ''
  }
}

type Parsed = { ok: true; value: unknown } | { ok: false }

function parseJson(text: string): Parsed {
  if (text.trim() === '') return { ok: true, value: undefined }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed)
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000))
}

function errorFromResponse(
  response: AnyResponse,
  body: unknown,
  headerRequestId: string | null,
  url: string,
): ApiError {
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'))
  const envelope = isRecord(body) && isRecord(body.error) ? body.error : null
  if (envelope && typeof envelope.message === 'string') {
    return new ApiError({
      status: response.status,
      type: stringOrNull(envelope.type) ?? 'api_error',
      code: stringOrNull(envelope.code),
      message: envelope.message,
      param: stringOrNull(envelope.param),
      requestId: stringOrNull(envelope.request_id) ?? headerRequestId,
      retryAfter,
      url,
    })
  }
  // Not our envelope (a proxy or CDN error page): never echo its body, only the status.
  return new ApiError({
    status: response.status,
    type: 'api_error',
    code: `http_${response.status}`,
    message: `The API answered HTTP ${response.status}.`,
    requestId: headerRequestId,
    retryAfter,
    url,
  })
}
