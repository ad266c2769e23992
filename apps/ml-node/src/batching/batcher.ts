import { overloaded, timedOut, unavailable } from '../http/errors.js'

export interface BatcherOptions<I, O> {
  /** Model id, used in metrics and errors. */
  name: string
  /** Runs one batch; must return one output per input, in order. */
  run: (inputs: I[]) => Promise<O[]>
  /** A batch closes at this many items... */
  maxBatch: number
  /** ...or this many ms after its oldest item arrived. */
  maxWaitMs: number
  /** false: never gather across requests (each run holds one request's items). */
  gather: boolean
  /** Items allowed to wait; a request that would overflow it gets 429 (unless the queue is empty). */
  maxQueue: number
  /** Per-request deadline, queueing included. */
  timeoutMs: number
  onBatch?: (size: number, ms: number) => void
  onQueueDepth?: (depth: number) => void
  onReject?: (reason: 'queue_full' | 'timeout' | 'closed') => void
}

interface Item<I, O> {
  input: I
  request: Ticket<O>
  index: number
}

interface Ticket<O> {
  results: O[]
  remaining: number
  done: boolean
  resolve: (out: O[]) => void
  reject: (err: unknown) => void
  enqueuedAt: number
}

/**
 * Dynamic batching for one model: requests are split into items, items from many requests are
 * gathered into one run of up to `maxBatch`, started when the batch is full or the oldest item
 * has waited `maxWaitMs`. One run at a time per model (the runtimes here are single-threaded).
 */
export class DynamicBatcher<I, O> {
  private queue: Item<I, O>[] = []
  private running = false
  private timer: NodeJS.Timeout | null = null
  private closed = false
  private avgItemMs = 5
  private idleWaiters: (() => void)[] = []

  constructor(private readonly opts: BatcherOptions<I, O>) {}

  get depth() {
    return this.queue.length
  }

  /** Seconds a client should wait before retrying, from the queue and the measured speed. */
  retryAfterS() {
    return Math.max(1, Math.ceil(((this.queue.length + 1) * this.avgItemMs) / 1000))
  }

  /**
   * `leftMs`: what is left of the request's deadline when part of it went elsewhere (waiting for
   * the model to load); by default the whole `timeoutMs`.
   */
  submit(inputs: I[], signal?: AbortSignal, leftMs = this.opts.timeoutMs): Promise<O[]> {
    if (this.closed) {
      this.opts.onReject?.('closed')
      return Promise.reject(unavailable(`${this.opts.name} is shutting down`, 5, 'shutting_down'))
    }
    if (inputs.length === 0) return Promise.resolve([])
    if (leftMs <= 0) {
      this.opts.onReject?.('timeout')
      return Promise.reject(timedOut(this.opts.timeoutMs))
    }
    // An empty queue takes any request, or one larger than the queue could never run (e.g. a
    // cosine rerank of MAX_INPUTS_PER_REQUEST documents, which adds the query).
    if (this.queue.length > 0 && this.queue.length + inputs.length > this.opts.maxQueue) {
      this.opts.onReject?.('queue_full')
      return Promise.reject(overloaded(`Model '${this.opts.name}'`, this.retryAfterS()))
    }
    return new Promise<O[]>((resolve, reject) => {
      const ticket: Ticket<O> = {
        results: new Array(inputs.length),
        remaining: inputs.length,
        done: false,
        resolve,
        reject,
        enqueuedAt: performance.now(),
      }
      const fail = (err: unknown) => {
        if (ticket.done) return
        ticket.done = true
        clearTimeout(deadline)
        signal?.removeEventListener('abort', onAbort)
        this.queue = this.queue.filter((it) => it.request !== ticket)
        this.opts.onQueueDepth?.(this.queue.length)
        reject(err)
      }
      const deadline = setTimeout(
        () => {
          this.opts.onReject?.('timeout')
          fail(timedOut(this.opts.timeoutMs))
        },
        Math.min(leftMs, this.opts.timeoutMs),
      )
      const onAbort = () => fail(new Error('request aborted by the client'))
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      ticket.resolve = (out) => {
        clearTimeout(deadline)
        signal?.removeEventListener('abort', onAbort)
        resolve(out)
      }
      ticket.reject = fail
      inputs.forEach((input, index) => {
        this.queue.push({ input, request: ticket, index })
      })
      this.opts.onQueueDepth?.(this.queue.length)
      this.schedule()
    })
  }

  /** Stop taking work; wait for what is queued and running to finish. */
  async close() {
    this.closed = true
    if (!this.running && this.queue.length === 0) return
    await new Promise<void>((r) => this.idleWaiters.push(r))
  }

  private schedule() {
    if (this.running || this.queue.length === 0) return
    const first = this.queue[0]
    if (!first) return
    const { maxBatch, maxWaitMs, gather } = this.opts
    const waited = performance.now() - first.request.enqueuedAt
    if (!gather || this.queue.length >= maxBatch || waited >= maxWaitMs) {
      if (this.timer) clearTimeout(this.timer)
      this.timer = null
      void this.runBatch()
      return
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null
        this.schedule()
      }, maxWaitMs - waited)
    }
  }

  private take(): Item<I, O>[] {
    const { maxBatch, gather } = this.opts
    if (gather) return this.queue.splice(0, maxBatch)
    const owner = this.queue[0]?.request
    const batch: Item<I, O>[] = []
    while (batch.length < maxBatch && this.queue[0] && this.queue[0].request === owner) {
      batch.push(this.queue.shift() as Item<I, O>)
    }
    return batch
  }

  private async runBatch() {
    this.running = true
    const batch = this.take()
    this.opts.onQueueDepth?.(this.queue.length)
    const started = performance.now()
    try {
      const outputs = await this.opts.run(batch.map((b) => b.input))
      if (outputs.length !== batch.length) {
        throw new Error(`model returned ${outputs.length} outputs for ${batch.length} inputs`)
      }
      batch.forEach((item, i) => {
        const t = item.request
        if (t.done) return
        t.results[item.index] = outputs[i] as O
        t.remaining -= 1
        if (t.remaining === 0) {
          t.done = true
          t.resolve(t.results)
        }
      })
    } catch (err) {
      for (const item of batch) item.request.reject(err)
    } finally {
      const ms = performance.now() - started
      this.avgItemMs = this.avgItemMs * 0.8 + (ms / Math.max(1, batch.length)) * 0.2
      this.opts.onBatch?.(batch.length, ms)
      this.running = false
      if (this.queue.length > 0) {
        // Let the event loop deliver responses and accept new requests between runs.
        setImmediate(() => this.schedule())
      } else {
        for (const w of this.idleWaiters.splice(0)) w()
      }
    }
  }
}
