/**
 * A small typed fetch wrapper for the edge API.
 *
 * - JSON in, JSON out; `FormData`, `Blob`, `URLSearchParams` and `ArrayBuffer` bodies pass through.
 * - Every failure is an `ApiError`: the API's envelope
 *   `{"error":{"type","code","message","param","request_id"}}`, or a client-side one
 *   (`type: 'connection_error'` with code `unreachable`, `timeout` or `aborted`;
 *   `type: 'invalid_response'` when the body is not the JSON we expect).
 * - `credentials: 'include'` so cookie sessions work across origins.
 * - Each call has a timeout (AbortSignal), and also honours the caller's own signal.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

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
  /** The URL that was tried, without its query string (which may carry secrets). */
  readonly url: string

  constructor(init: {
    status: number
    type: string
    code?: string | null
    message: string
    param?: string | null
    requestId?: string | null
    url: string
    cause?: unknown
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause })
    this.status = init.status
    this.type = init.type
    this.code = init.code ?? null
    this.param = init.param ?? null
    this.requestId = init.requestId ?? null
    this.url = init.url
  }

  /** True when the API could not be reached at all (network down, DNS, CORS, closed port). */
  get isConnectionError(): boolean {
    return this.type === 'connection_error'
  }
}

export type QueryValue = string | number | boolean | null | undefined

export interface RequestOptions {
  method?: HttpMethod
  query?: Record<string, QueryValue | QueryValue[]>
  /** Plain values are sent as JSON; FormData/Blob/URLSearchParams/ArrayBuffer as they are. */
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Overrides the client's default timeout for this call. */
  timeoutMs?: number
  /**
   * Non-2xx statuses whose body is an answer, not an error (e.g. `[503]` for `/health`,
   * which reports a degraded system with a 503 and the same JSON body).
   */
  acceptStatus?: readonly number[]
}

export interface ApiResponse<T> {
  status: number
  data: T
  headers: Headers
  requestId: string | null
}

export interface ApiClientOptions {
  baseUrl: string
  /** Default per-call timeout; 15 s. */
  timeoutMs?: number
  /** Headers sent with every call (e.g. a bearer token later). */
  headers?: Record<string, string>
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch
}

const DEFAULT_TIMEOUT_MS = 15_000
const REQUEST_ID_HEADER = 'x-request-id'

export class ApiClient {
  readonly baseUrl: string
  private readonly timeoutMs: number
  private readonly headers: Record<string, string>
  private readonly fetchImpl: typeof fetch | undefined

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.headers = { ...options.headers }
    this.fetchImpl = options.fetch
  }

  /** Full URL for an API path, e.g. `url('/health')`. */
  url(path: string, query?: RequestOptions['query']): string {
    const url = new URL(this.baseUrl + (path.startsWith('/') ? path : `/${path}`))
    for (const [key, value] of Object.entries(query ?? {})) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item !== undefined && item !== null) url.searchParams.append(key, String(item))
      }
    }
    return url.toString()
  }

  get<T>(path: string, options?: Omit<RequestOptions, 'method' | 'body'>): Promise<T> {
    return this.request<T>(path, { ...options, method: 'GET' }).then((r) => r.data)
  }

  post<T>(path: string, body?: unknown, options?: Omit<RequestOptions, 'method' | 'body'>) {
    return this.request<T>(path, { ...options, method: 'POST', body }).then((r) => r.data)
  }

  put<T>(path: string, body?: unknown, options?: Omit<RequestOptions, 'method' | 'body'>) {
    return this.request<T>(path, { ...options, method: 'PUT', body }).then((r) => r.data)
  }

  patch<T>(path: string, body?: unknown, options?: Omit<RequestOptions, 'method' | 'body'>) {
    return this.request<T>(path, { ...options, method: 'PATCH', body }).then((r) => r.data)
  }

  delete<T>(path: string, options?: Omit<RequestOptions, 'method' | 'body'>): Promise<T> {
    return this.request<T>(path, { ...options, method: 'DELETE' }).then((r) => r.data)
  }

  /** Sends one request and returns status, headers and the parsed body. */
  async request<T>(path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = this.url(path, options.query)
    const safeUrl = withoutQuery(url)
    const headers = new Headers({ accept: 'application/json', ...this.headers, ...options.headers })
    const body = encodeBody(options.body, headers)

    // One controller aborts the fetch on timeout or when the caller's signal fires.
    const controller = new AbortController()
    let abortedBy: 'timeout' | 'caller' | null = null
    const timeoutMs = options.timeoutMs ?? this.timeoutMs
    const timer = setTimeout(() => {
      abortedBy = 'timeout'
      controller.abort()
    }, timeoutMs)
    const onCallerAbort = () => {
      abortedBy ??= 'caller'
      controller.abort()
    }
    if (options.signal?.aborted) onCallerAbort()
    else options.signal?.addEventListener('abort', onCallerAbort, { once: true })

    const failed = (cause: unknown): ApiError => {
      if (abortedBy === 'timeout') {
        return new ApiError({
          status: 0,
          type: 'connection_error',
          code: 'timeout',
          message: `The API did not answer within ${timeoutMs} ms.`,
          url: safeUrl,
          cause,
        })
      }
      if (abortedBy === 'caller') {
        return new ApiError({
          status: 0,
          type: 'connection_error',
          code: 'aborted',
          message: 'The request was cancelled.',
          url: safeUrl,
          cause,
        })
      }
      return new ApiError({
        status: 0,
        type: 'connection_error',
        code: 'unreachable',
        message: `Could not reach the API at ${safeUrl}.`,
        url: safeUrl,
        cause,
      })
    }

    try {
      let response: Response
      try {
        const doFetch = this.fetchImpl ?? globalThis.fetch
        response = await doFetch(url, {
          method: options.method ?? 'GET',
          headers,
          body,
          credentials: 'include',
          signal: controller.signal,
        })
      } catch (cause) {
        throw failed(cause)
      }

      let text: string
      try {
        text = await response.text()
      } catch (cause) {
        throw failed(cause)
      }

      const requestId = response.headers.get(REQUEST_ID_HEADER)
      const accepted = response.ok || (options.acceptStatus?.includes(response.status) ?? false)
      const parsed = parseJson(text)

      if (accepted) {
        if (parsed.ok)
          return {
            status: response.status,
            data: parsed.value as T,
            headers: response.headers,
            requestId,
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
    } finally {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onCallerAbort)
    }
  }
}

function withoutQuery(url: string): string {
  const u = new URL(url)
  u.search = ''
  u.hash = ''
  u.username = ''
  u.password = ''
  return u.toString()
}

function encodeBody(body: unknown, headers: Headers): BodyInit | undefined {
  if (body === undefined) return undefined
  if (
    body instanceof FormData ||
    body instanceof Blob ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body)
  ) {
    return body as BodyInit
  }
  if (!headers.has('content-type')) headers.set('content-type', 'application/json')
  return JSON.stringify(body)
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

function errorFromResponse(
  response: Response,
  body: unknown,
  headerRequestId: string | null,
  url: string,
): ApiError {
  const envelope = isRecord(body) && isRecord(body.error) ? body.error : null
  if (envelope && typeof envelope.message === 'string') {
    return new ApiError({
      status: response.status,
      type: stringOrNull(envelope.type) ?? 'api_error',
      code: stringOrNull(envelope.code),
      message: envelope.message,
      param: stringOrNull(envelope.param),
      requestId: stringOrNull(envelope.request_id) ?? headerRequestId,
      url,
    })
  }
  // Not our envelope (a proxy or CDN error page): never echo its body, only the status.
  const reason = response.statusText ? ` ${response.statusText}` : ''
  return new ApiError({
    status: response.status,
    type: 'api_error',
    code: `http_${response.status}`,
    message: `The API answered HTTP ${response.status}${reason}.`,
    requestId: headerRequestId,
    url,
  })
}
