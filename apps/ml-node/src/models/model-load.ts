import { within } from '../http/deadline.js'
import { timedOut, unavailable } from '../http/errors.js'
import type { Metrics } from '../metrics.js'
import type { ModelCard } from './registry.js'

export interface LoadResult {
  loadMs?: number
  details?: Record<string, unknown>
}

export interface ModelLoadOptions {
  card: ModelCard
  /** One load attempt; rejects when the model cannot be served. */
  load: () => Promise<LoadResult | undefined>
  /** Delay before the next attempt after a first failure; doubles per failure ... */
  retryMs: number
  /** ... up to this. */
  maxRetryMs: number
  metrics?: Pick<Metrics, 'modelLoadSeconds' | 'rejected'> | undefined
  /** The reason shown on the card, in /readyz and in 503s (keep paths out of it). */
  describe?: (err: unknown) => string
}

type State = 'idle' | 'loading' | 'ready' | 'failed'

const message = (err: unknown) => String((err as Error)?.message ?? err)

/**
 * The life of one model's weights: one load attempt in flight at a time, its outcome written to
 * the model card, and after a failure a new attempt once a delay has passed (doubling per
 * failure, capped), started by the next request or by a timer, whichever comes first. A 503 for
 * a failed model says in Retry-After when that attempt will be.
 */
export class ModelLoad {
  private state: State = 'idle'
  private inFlight: Promise<void> | null = null
  private failures = 0
  private retryAt = 0
  private readyAt = 0
  private error = ''
  private timer: NodeJS.Timeout | null = null
  private closed = false
  /** At least one attempt has finished (ready or failed): what /readyz waits for. */
  settled = false

  constructor(private readonly opts: ModelLoadOptions) {}

  get id() {
    return this.opts.card.id
  }

  get ready() {
    return this.state === 'ready'
  }

  /** First load at start-up; failures are reported on the card, never thrown. */
  start(): Promise<void> {
    return this.ensure().catch(() => undefined)
  }

  /** Resolves once the model is loaded; a 503 `model_load_failed` with a true Retry-After if not. */
  ensure(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve()
    if (this.inFlight) return this.inFlight
    if (this.closed) return Promise.reject(unavailable(`Model '${this.id}' is shutting down`))
    if (this.state === 'failed' && Date.now() < this.retryAt) return Promise.reject(this.failure())
    return this.attempt()
  }

  /**
   * Starts one request's deadline and waits, within it, for the model to be loaded (at once when
   * it is): past `timeoutMs` the request gets `timeoutError` (counted as a `timeout` rejection),
   * and a client that leaves stops waiting. Resolves with the deadline for the rest of its work.
   */
  async startRequest(
    timeoutMs: number,
    signal?: AbortSignal,
    timeoutError: (ms: number) => Error = timedOut,
  ): Promise<number> {
    const deadline = Date.now() + timeoutMs
    if (this.state === 'ready') return deadline
    await within(
      this.ensure(),
      timeoutMs,
      () => {
        this.opts.metrics?.rejected.inc({ model: this.id, reason: 'timeout' })
        return timeoutError(timeoutMs)
      },
      signal,
    )
    return deadline
  }

  /** Seconds until the next attempt may start (at least 1). */
  retryAfterS() {
    return Math.max(1, Math.ceil((this.retryAt - Date.now()) / 1000))
  }

  /**
   * A loaded model stopped working (its worker died). The next attempt starts at once when it had
   * been up for a retry delay or longer; one that dies sooner counts as a failed load and backs off,
   * so a crash loop cannot turn into a load loop.
   */
  lost(err: unknown) {
    if (this.closed || this.state !== 'ready') return
    const upMs = Date.now() - this.readyAt
    if (upMs >= this.opts.retryMs) this.failures = 0
    this.fail(`stopped after loading: ${message(err)}`, upMs >= this.opts.retryMs ? 0 : undefined)
  }

  /** Stop retrying (shutdown). */
  close() {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private failure() {
    return unavailable(
      `Model '${this.id}' failed to load: ${this.error}`,
      this.retryAfterS(),
      'model_load_failed',
    )
  }

  private attempt(): Promise<void> {
    const { card, metrics } = this.opts
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.state = 'loading'
    card.status = 'loading'
    const started = performance.now()
    const run = (async () => {
      try {
        const result = (await this.opts.load()) ?? {}
        const loadMs = result.loadMs ?? performance.now() - started
        if (this.closed) return
        const {
          error: _error,
          next_attempt_at: _next,
          failed_attempts: _n,
          ...kept
        } = card.details ?? {}
        card.details = { ...kept, ...result.details, load_ms: Math.round(loadMs) }
        card.status = 'ready'
        this.state = 'ready'
        this.failures = 0
        this.readyAt = Date.now()
        metrics?.modelLoadSeconds.set({ model: this.id }, loadMs / 1000)
      } catch (err) {
        this.fail(this.opts.describe ? this.opts.describe(err) : message(err))
        throw this.failure()
      } finally {
        this.settled = true
        this.inFlight = null
      }
    })()
    this.inFlight = run
    return run
  }

  private fail(error: string, delayMs?: number) {
    const { card, retryMs, maxRetryMs } = this.opts
    this.failures += 1
    const delay = delayMs ?? Math.min(maxRetryMs, retryMs * 2 ** (this.failures - 1))
    this.state = 'failed'
    this.error = error
    this.retryAt = Date.now() + delay
    card.status = 'failed'
    card.details = {
      ...card.details,
      error,
      failed_attempts: this.failures,
      next_attempt_at: new Date(this.retryAt).toISOString(),
    }
    if (this.closed) return
    const wait = delay < 1000 ? `${delay} ms` : `${Math.round(delay / 1000)} s`
    console.warn(`[ml-node] model '${this.id}' is unavailable: ${error}; next load in ${wait}`)
    // Retry in the background too: a node whose /readyz is 503 gets no requests to retry with.
    this.timer = setTimeout(() => {
      this.timer = null
      // attempt(), not ensure(): ensure() compares Date.now() with retryAt, and the wall clock can
      // read behind the timer's clock (a timer fires a millisecond early, NTP slews or steps it);
      // a refusal here would end the background retries for good.
      if (!this.closed && this.state === 'failed' && !this.inFlight) {
        this.attempt().catch(() => undefined)
      }
    }, delay)
    this.timer.unref()
  }
}
