import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError } from '../config.js'
import type { EmbeddingService } from '../embeddings/service.js'
import { ApiError, badRequest, modelNotFound } from '../http/errors.js'
import { isNotWritable, modelDirNotWritable } from '../model-dir.js'
import { card, type ModelCard } from '../models/registry.js'
import { hashedNgrams } from './features.js'
import { type LogisticModel, predict, trainLogistic } from './logistic.js'

export interface TrainRequest {
  name?: string | undefined
  /** An id or alias; omitted: the registry's default embedder, else use-lite-512. */
  embedding_model?: string | undefined
  examples: { text: string; label: string }[]
  validation_split: number
  epochs: number
  learning_rate: number
  embed_chars: number
  hash_buckets: number
  seed: number
}

export interface ClassifierRecord {
  id: string
  object: 'classifier'
  name: string | null
  status: 'queued' | 'training' | 'succeeded' | 'failed'
  progress: number
  stage: 'queued' | 'embedding' | 'training' | 'done'
  created_at: number
  finished_at: number | null
  error: string | null
  labels: string[]
  examples: number
  features: {
    embedding_model: string
    embed_chars: number
    hash_buckets: number
    hash_scale: number
  }
  metrics: {
    train_accuracy: number
    validation_accuracy: number | null
    validation_examples: number
  } | null
  model?: LogisticModel
}

const HASH_SCALE = 10

/**
 * The embedding model each trained classifier in `MODEL_DIR/classifiers` runs on, read at
 * start-up so that the registry cannot disable a model they need. Unreadable files are skipped
 * here as `load()` skips them.
 */
export function trainedClassifierEmbeddings(modelDir: string): Map<string, string> {
  const out = new Map<string, string>()
  const dir = join(modelDir, 'classifiers')
  if (!existsSync(dir)) return out
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.json')) continue
    try {
      const rec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Partial<ClassifierRecord>
      const model = rec.features?.embedding_model
      if (rec.status === 'succeeded' && typeof rec.id === 'string' && typeof model === 'string') {
        out.set(rec.id, model)
      }
    } catch {
      // load() reports it.
    }
  }
  return out
}

/** Custom classifiers: a logistic head on [embedding ⊕ hashed n-grams], trained in the background. */
export class ClassifierStore {
  private records = new Map<string, ClassifierRecord>()
  private queue: Promise<void> = Promise.resolve()
  private readonly dir: string

  constructor(
    private readonly modelDir: string,
    private readonly embeddings: EmbeddingService,
  ) {
    this.dir = join(modelDir, 'classifiers')
  }

  async load() {
    let files: string[]
    let step = `could not create ${this.dir}`
    try {
      await mkdir(this.dir, { recursive: true })
      step = `could not read ${this.dir}`
      files = await readdir(this.dir)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      // Typically a root-owned host folder mounted into the image, which runs as uid 10001.
      if (isNotWritable(code)) throw modelDirNotWritable(this.modelDir, step, code)
      throw new ConfigError(
        `MODEL_DIR/classifiers (${this.dir}) cannot be used: ${(err as Error).message}`,
      )
    }
    for (const f of files) {
      if (!f.endsWith('.json')) continue
      try {
        const rec = JSON.parse(await readFile(join(this.dir, f), 'utf8')) as ClassifierRecord
        if (rec.status === 'queued' || rec.status === 'training') {
          rec.status = 'failed'
          rec.error = 'training was interrupted by a restart; submit it again'
          rec.finished_at = Math.floor(Date.now() / 1000)
          await this.persist(rec)
        }
        this.records.set(rec.id, rec)
      } catch (err) {
        console.error(
          `[ml-node] skipping unreadable classifier file ${f}: ${(err as Error).message}`,
        )
      }
    }
  }

  private async persist(rec: ClassifierRecord) {
    const file = join(this.dir, `${rec.id}.json`)
    const tmp = `${file}.${process.pid}.tmp`
    await writeFile(tmp, JSON.stringify(rec))
    await rename(tmp, file)
  }

  public view(rec: ClassifierRecord) {
    const { model: _model, ...rest } = rec
    return rest
  }

  list() {
    return [...this.records.values()]
      .sort((a, b) => a.created_at - b.created_at)
      .map((r) => this.view(r))
  }

  cards(): ModelCard[] {
    return [...this.records.values()].map((r) =>
      card({
        id: r.id,
        created: r.created_at,
        task: 'classification',
        kind: 'trained-head (logistic regression)',
        family: `custom classifier${r.name ? ` '${r.name}'` : ''}: ${r.labels.join(', ')}`,
        runtime: 'TypeScript',
        source: 'trained on this node from labelled examples',
        license: 'owned by whoever supplied the examples',
        status: r.status === 'succeeded' ? 'ready' : r.status === 'failed' ? 'failed' : 'training',
        details: { features: r.features },
      }),
    )
  }

  get(id: string) {
    const rec = this.records.get(id)
    if (!rec) {
      throw new ApiError(
        404,
        `No classifier with id '${id}'.`,
        'invalid_request_error',
        'id',
        'classifier_not_found',
      )
    }
    return rec
  }

  async delete(id: string) {
    const rec = this.get(id)
    if (rec.status === 'queued' || rec.status === 'training') {
      throw new ApiError(
        409,
        `Classifier '${id}' is still training.`,
        'invalid_request_error',
        'id',
        'classifier_busy',
      )
    }
    this.records.delete(id)
    await rm(join(this.dir, `${id}.json`), { force: true })
  }

  async create(req: TrainRequest) {
    const labels = [...new Set(req.examples.map((e) => e.label))].sort()
    if (labels.length < 2)
      throw badRequest('examples', 'Need examples of at least two distinct labels.')
    // The record keeps the model id, never an alias: its features must not change under it.
    const asked = req.embedding_model ?? this.embeddings.trainingDefault()
    if (asked === undefined) {
      throw badRequest(
        'embedding_model',
        "Missing required parameter: 'embedding_model' (this node has no default embedding model).",
        'missing_required_parameter',
      )
    }
    const embeddingModel = this.embeddings.resolve(asked)
    const rec: ClassifierRecord = {
      id: `clf_${randomBytes(8).toString('hex')}`,
      object: 'classifier',
      name: req.name ?? null,
      status: 'queued',
      progress: 0,
      stage: 'queued',
      created_at: Math.floor(Date.now() / 1000),
      finished_at: null,
      error: null,
      labels,
      examples: req.examples.length,
      features: {
        embedding_model: embeddingModel,
        embed_chars: req.embed_chars,
        hash_buckets: req.hash_buckets,
        hash_scale: HASH_SCALE,
      },
      metrics: null,
    }
    this.records.set(rec.id, rec)
    await this.persist(rec)
    // One training job at a time; online traffic keeps flowing between its embedding batches.
    this.queue = this.queue.then(() =>
      this.train(rec, req).catch(async (err: Error) => {
        rec.status = 'failed'
        rec.error = err.message
        rec.finished_at = Math.floor(Date.now() / 1000)
        await this.persist(rec).catch(() => undefined)
      }),
    )
    return this.view(rec)
  }

  /** Resolves when every queued training job has finished (tests, shutdown). */
  idle() {
    return this.queue
  }

  private async features(
    rec: ClassifierRecord,
    texts: string[],
    onProgress?: (done: number) => void,
    signal?: AbortSignal,
  ) {
    const { embedding_model, embed_chars, hash_buckets } = rec.features
    const out: Float32Array[] = []
    const chunk = 32
    for (let i = 0; i < texts.length; i += chunk) {
      const part = texts.slice(i, i + chunk)
      const emb = await this.embeddings.embed(
        embedding_model,
        part.map((t) => t.slice(0, embed_chars)),
        signal,
      )
      part.forEach((t, j) => {
        const e = (emb[j] as { vector: Float32Array }).vector
        const v = new Float32Array(e.length + hash_buckets)
        v.set(e)
        if (hash_buckets > 0)
          v.set(
            hashedNgrams(t, hash_buckets).map((x) => x * HASH_SCALE),
            e.length,
          )
        out.push(v)
      })
      onProgress?.(Math.min(texts.length, i + chunk))
    }
    return out
  }

  private async train(rec: ClassifierRecord, req: TrainRequest) {
    rec.status = 'training'
    rec.stage = 'embedding'
    await this.persist(rec)
    const n = req.examples.length
    const xs = await this.features(
      rec,
      req.examples.map((e) => e.text),
      (done) => {
        rec.progress = Math.round((done / n) * 80) / 100
      },
    )
    const ys = req.examples.map((e) => rec.labels.indexOf(e.label))
    // Deterministic split: every k-th example is held out.
    const nVal = Math.floor(n * req.validation_split)
    const step = nVal > 0 ? n / nVal : Infinity
    const isVal = new Set<number>()
    for (let i = 0; i < nVal; i++) isVal.add(Math.floor(i * step))
    const tx = xs.filter((_, i) => !isVal.has(i))
    const ty = ys.filter((_, i) => !isVal.has(i))
    rec.stage = 'training'
    const embDims = this.embeddings.dimensions(rec.features.embedding_model) ?? 0
    const model = await trainLogistic(tx, ty, rec.labels, {
      epochs: req.epochs,
      learningRate: req.learning_rate,
      l2: 1e-4,
      batchSize: 32,
      seed: req.seed,
      standardizeDims: embDims,
      onEpoch: async (epoch) => {
        rec.progress = Math.round((0.8 + (0.2 * epoch) / req.epochs) * 100) / 100
        await new Promise((r) => setImmediate(r))
      },
    })
    const acc = (idx: number[]) => {
      if (idx.length === 0) return null
      let ok = 0
      for (const i of idx) {
        const p = predict(model, xs[i] as Float32Array)
        if (p.indexOf(Math.max(...p)) === ys[i]) ok++
      }
      return Math.round((ok / idx.length) * 10_000) / 10_000
    }
    const all = Array.from({ length: n }, (_, i) => i)
    rec.metrics = {
      train_accuracy: acc(all.filter((i) => !isVal.has(i))) ?? 0,
      validation_accuracy: acc([...isVal]),
      validation_examples: isVal.size,
    }
    rec.model = model
    rec.status = 'succeeded'
    rec.stage = 'done'
    rec.progress = 1
    rec.finished_at = Math.floor(Date.now() / 1000)
    await this.persist(rec)
  }

  async classify(id: string, texts: string[], signal?: AbortSignal) {
    const rec = this.records.get(id)
    if (!rec) {
      const ready = [...this.records.values()]
        .filter((r) => r.status === 'succeeded')
        .map((r) => r.id)
      throw modelNotFound(id, ready)
    }
    if (rec.status !== 'succeeded' || !rec.model) {
      throw new ApiError(
        409,
        `Classifier '${id}' is ${rec.status}, not ready.`,
        'invalid_request_error',
        'model',
        'classifier_not_ready',
      )
    }
    const xs = await this.features(rec, texts, undefined, signal)
    const model = rec.model
    return xs.map((x) => {
      const p = predict(model, x)
      const best = p.indexOf(Math.max(...p))
      return {
        label: model.labels[best] as string,
        scores: Object.fromEntries(
          model.labels.map((l, i) => [l, Math.round((p[i] as number) * 10_000) / 10_000]),
        ),
      }
    })
  }
}
