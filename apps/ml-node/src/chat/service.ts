import { existsSync, readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import {
  type ChatHistoryItem,
  getLlama,
  type Llama,
  LlamaChat,
  type LlamaContext,
  LlamaLogLevel,
  type LlamaModel,
} from 'node-llama-cpp'
import type { Config } from '../config.js'
import { ApiError, overloaded, unavailable } from '../http/errors.js'
import type { Metrics } from '../metrics.js'
import { card, type ModelCard } from '../models/registry.js'

export const FIXTURE_ID = 'fixture-tiny-random'

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant'
  content: string
}

export interface GenerateOptions {
  maxTokens: number
  temperature?: number | undefined
  topP?: number | undefined
  seed?: number | undefined
  stop: string[]
  signal: AbortSignal
  onDelta?: (text: string) => void
}

export interface GenerateResult {
  text: string
  finishReason: 'stop' | 'length'
  promptTokens: number
  completionTokens: number
  aborted: boolean
}

interface ChatModelEntry {
  id: string
  path: string
  card: ModelCard
  model: LlamaModel | null
  context: LlamaContext | null
  loading: Promise<void> | null
}

/** A counting semaphore with a bounded wait queue. */
class Slots {
  private active = 0
  private waiting: (() => void)[] = []
  constructor(
    private readonly max: number,
    private readonly maxWaiting: number,
  ) {}
  get queued() {
    return this.waiting.length
  }
  async acquire(name: string) {
    if (this.active < this.max) {
      this.active++
      return
    }
    if (this.waiting.length >= this.maxWaiting) throw overloaded(`Chat model '${name}'`, 2)
    await new Promise<void>((r) => this.waiting.push(r))
    this.active++
  }
  release() {
    this.active--
    this.waiting.shift()?.()
  }
}

/** GGUF chat models through node-llama-cpp; threads always set from config. */
export class ChatService {
  private entries = new Map<string, ChatModelEntry>()
  private llama: Promise<Llama> | null = null
  private slots: Slots

  constructor(
    private readonly config: Config,
    private readonly metrics: Metrics,
  ) {
    this.slots = new Slots(config.CHAT_MAX_CONCURRENT, config.CHAT_QUEUE_MAX)
    const dir = join(config.MODEL_DIR, 'chat')
    if (existsSync(dir)) {
      for (const f of readdirSync(dir)
        .filter((f) => f.endsWith('.gguf'))
        .sort()) {
        const id = basename(f, '.gguf')
        this.entries.set(id, this.entry(id, join(dir, f), false))
      }
    }
    if (config.ML_NODE_TEST_CHAT_FIXTURE) {
      this.entries.set(FIXTURE_ID, this.entry(FIXTURE_ID, config.ML_NODE_TEST_CHAT_FIXTURE, true))
    }
  }

  private entry(id: string, path: string, fixture: boolean): ChatModelEntry {
    return {
      id,
      path,
      model: null,
      context: null,
      loading: null,
      card: card({
        id,
        task: 'chat',
        kind: fixture
          ? 'fixture (random weights, test only: produces gibberish)'
          : 'generative LLM (GGUF)',
        family: fixture ? 'tiny llama-architecture network' : 'read from the GGUF metadata at load',
        runtime: 'node-llama-cpp 3.21.1 (llama.cpp)',
        source: fixture
          ? 'built by scripts/make-fixture-gguf.ts'
          : `MODEL_DIR/chat/${basename(path)}`,
        license: fixture ? 'n/a' : 'see the model card of the weights',
        status: 'loading',
      }),
    }
  }

  list() {
    return [...this.entries.values()].map((e) => e.card)
  }

  ids() {
    return [...this.entries.keys()]
  }

  isReady() {
    return [...this.entries.values()].every((e) => e.card.status === 'ready')
  }

  private getLlama() {
    const gpu = this.config.LLAMA_GPU
    this.llama ??= getLlama({
      gpu: gpu === 'off' ? false : gpu,
      build: 'never',
      maxThreads: this.config.threads,
      logLevel: LlamaLogLevel.error,
      progressLogs: false,
    })
    return this.llama
  }

  async start() {
    await Promise.all([...this.entries.values()].map((e) => this.load(e).catch(() => undefined)))
  }

  private load(e: ChatModelEntry) {
    e.loading ??= (async () => {
      const started = performance.now()
      try {
        const llama = await this.getLlama()
        const model = await llama.loadModel({ modelPath: e.path })
        const contextSize = Math.min(this.config.LLAMA_CONTEXT_SIZE, model.trainContextSize)
        e.context = await model.createContext({
          contextSize,
          threads: this.config.threads,
          sequences: this.config.CHAT_MAX_CONCURRENT,
        })
        e.model = model
        const meta = model.fileInfo.metadata as {
          general?: { name?: string; architecture?: string }
        }
        e.card.status = 'ready'
        e.card.context_length = contextSize
        if (e.id !== FIXTURE_ID)
          e.card.family = `${meta.general?.name ?? 'unknown'} (${meta.general?.architecture ?? '?'})`
        e.card.details = {
          gpu: llama.gpu || 'cpu',
          threads: this.config.threads,
          size_bytes: model.size,
        }
        this.metrics.modelLoadSeconds.set({ model: e.id }, (performance.now() - started) / 1000)
      } catch (err) {
        e.card.status = 'failed'
        e.card.details = { error: (err as Error).message }
        throw err
      }
    })()
    return e.loading
  }

  resolve(model: string): ChatModelEntry {
    if (this.entries.size === 0) {
      throw new ApiError(
        404,
        'No chat model is configured on this node. Put a GGUF file in MODEL_DIR/chat/ (see docs/ml-node.md), or send chat to a cloud provider.',
        'invalid_request_error',
        'model',
        'no_chat_model_configured',
      )
    }
    const e = this.entries.get(model)
    if (!e) {
      throw new ApiError(
        404,
        `The model '${model}' does not exist on this node. Known chat models: ${this.ids().join(', ')}`,
        'invalid_request_error',
        'model',
        'model_not_found',
      )
    }
    return e
  }

  /** Waits for a free sequence (bounded queue: 429 beyond it) and loads the model if needed. */
  async acquire(model: string) {
    const e = this.resolve(model)
    await this.slots.acquire(model)
    try {
      await this.load(e)
    } catch {
      this.slots.release()
      throw unavailable(`Chat model '${model}' failed to load`, 30, 'model_load_failed')
    }
    return { entry: e, release: () => this.slots.release() }
  }

  async generate(
    e: ChatModelEntry,
    messages: ChatMessage[],
    opts: GenerateOptions,
  ): Promise<GenerateResult> {
    const context = e.context as LlamaContext
    const sequence = context.getSequence()
    const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false })
    try {
      const history: ChatHistoryItem[] = messages.map((m) =>
        m.role === 'assistant'
          ? { type: 'model', response: [m.content] }
          : m.role === 'user'
            ? { type: 'user', text: m.content }
            : { type: 'system', text: m.content },
      )
      history.push({ type: 'model', response: [] })
      const before = sequence.tokenMeter.getState()
      const res = await chat.generateResponse(history, {
        maxTokens: opts.maxTokens,
        ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
        ...(opts.topP !== undefined ? { topP: opts.topP } : {}),
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        ...(opts.stop.length > 0 ? { customStopTriggers: opts.stop } : {}),
        signal: opts.signal,
        stopOnAbortSignal: true,
        ...(opts.onDelta ? { onTextChunk: opts.onDelta } : {}),
      })
      const diff = sequence.tokenMeter.diff(before)
      this.metrics.tokens.inc({ model: e.id, kind: 'prompt' }, diff.usedInputTokens)
      this.metrics.tokens.inc({ model: e.id, kind: 'completion' }, diff.usedOutputTokens)
      return {
        text: res.response,
        finishReason: res.metadata.stopReason === 'maxTokens' ? 'length' : 'stop',
        promptTokens: diff.usedInputTokens,
        completionTokens: diff.usedOutputTokens,
        aborted: res.metadata.stopReason === 'abort',
      }
    } finally {
      chat.dispose({ disposeSequence: false })
      // Each request starts clean, so usage counts the whole prompt and nothing leaks between callers.
      await sequence.clearHistory()
      sequence.dispose()
    }
  }

  async close() {
    for (const e of this.entries.values()) {
      await e.loading?.catch(() => undefined)
      await e.context?.dispose()
      await e.model?.dispose()
    }
    if (this.llama) await (await this.llama).dispose()
  }
}
