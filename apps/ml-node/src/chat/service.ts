import { basename } from 'node:path'
import {
  type ChatHistoryItem,
  type ChatWrapper,
  getLlama,
  type Llama,
  LlamaChat,
  type LlamaContext,
  type LlamaGrammar,
  LlamaLogLevel,
  type LlamaModel,
  resolveChatWrapper,
} from 'node-llama-cpp'
import type { Config } from '../config.js'
import { ApiError, badRequest, overloaded } from '../http/errors.js'
import type { Metrics } from '../metrics.js'
import type { ModelCatalog } from '../models/catalog.js'
import { ModelLoad } from '../models/model-load.js'
import { card, type ModelCard } from '../models/registry.js'
import { FIXTURE_ID, type GgufModelInfo } from './discovery.js'
import { checkGgufHeader } from './gguf-header.js'
import { grammarSchema } from './json-schema.js'

export { FIXTURE_ID }

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant'
  content: string
}

/** OpenAI's `response_format`: free text, any JSON object, or JSON matching a schema. */
export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema?: Record<string, unknown> } }

export interface GenerateOptions {
  maxTokens: number
  temperature?: number | undefined
  topP?: number | undefined
  seed?: number | undefined
  frequencyPenalty?: number | undefined
  presencePenalty?: number | undefined
  /** Constrains sampling (from `ChatService.grammar`). */
  grammar?: LlamaGrammar | undefined
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
  /** The family came from the registry file: the GGUF metadata does not replace it. */
  familyGiven: boolean
  card: ModelCard
  model: LlamaModel | null
  context: LlamaContext | null
  /**
   * Resolved once at load: LlamaChat's default ('auto') resolves it on every construction, and for a
   * GGUF with a Jinja chat template that renders test chats through it (~50-350 ms a request here).
   */
  chatWrapper: ChatWrapper | null
  load: ModelLoad
}

/** The signal's reason as the error to throw (an ApiError for a deadline, else an abort). */
const abortError = (signal: AbortSignal) =>
  signal.reason instanceof Error ? signal.reason : new Error('request aborted by the client')

/** Waits for `p`, or rejects as soon as `signal` aborts (`p` itself carries on). */
function untilAborted<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p
  if (signal.aborted) return Promise.reject(abortError(signal))
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

interface Waiter {
  grant: () => void
}

/** A counting semaphore with a bounded wait queue; a waiter whose signal aborts leaves it. */
class Slots {
  private active = 0
  private waiting: Waiter[] = []
  constructor(
    private readonly max: number,
    private readonly maxWaiting: number,
  ) {}
  get queued() {
    return this.waiting.length
  }
  get running() {
    return this.active
  }
  async acquire(name: string, signal?: AbortSignal) {
    if (signal?.aborted) throw abortError(signal)
    if (this.active < this.max) {
      this.active++
      return
    }
    if (this.waiting.length >= this.maxWaiting) throw overloaded(`Chat model '${name}'`, 2)
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiting = this.waiting.filter((w) => w !== waiter)
        reject(abortError(signal as AbortSignal))
      }
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiting.push(waiter)
    })
  }
  release() {
    // Hand the slot straight to the next waiter, so no newcomer can slip in between.
    const next = this.waiting.shift()
    if (next) next.grant()
    else this.active--
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
    private readonly catalog: ModelCatalog,
  ) {
    this.slots = new Slots(config.CHAT_MAX_CONCURRENT, config.CHAT_QUEUE_MAX)
    for (const info of catalog.gguf) this.entries.set(info.id, this.entry(info))
  }

  private entry(info: GgufModelInfo): ChatModelEntry {
    const { id, path, fixture } = info
    const modelCard = card({
      id,
      task: 'chat',
      kind: fixture
        ? 'fixture (random weights, test only: produces gibberish)'
        : 'generative LLM (GGUF)',
      family:
        info.family ??
        (fixture ? 'tiny llama-architecture network' : 'read from the GGUF metadata at load'),
      runtime: 'node-llama-cpp 3.21.1 (llama.cpp)',
      source: info.source,
      license: info.license ?? (fixture ? 'n/a' : 'see the model card of the weights'),
      status: 'loading',
    })
    const e: ChatModelEntry = {
      id,
      path,
      familyGiven: info.family !== undefined || fixture,
      model: null,
      context: null,
      chatWrapper: null,
      card: modelCard,
      load: new ModelLoad({
        card: modelCard,
        load: () => this.loadModel(e),
        retryMs: this.config.MODEL_LOAD_RETRY_MS,
        maxRetryMs: this.config.MODEL_LOAD_RETRY_MAX_MS,
        metrics: this.metrics,
        // llama.cpp's messages name the full path; the card already says which file.
        describe: (err) =>
          String((err as Error)?.message ?? err)
            .split(path)
            .join(basename(path)),
      }),
    }
    return e
  }

  list() {
    return [...this.entries.values()].map((e) => e.card)
  }

  ids() {
    return [...this.entries.keys()]
  }

  /** Every GGUF has settled: loaded, or failed and reported (a broken file does not hold /readyz). */
  isReady() {
    return [...this.entries.values()].every((e) => e.load.settled)
  }

  /** Requests waiting for a sequence, and sequences generating. */
  get queued() {
    return this.slots.queued
  }
  get running() {
    return this.slots.running
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
    await Promise.all([...this.entries.values()].map((e) => e.load.start()))
  }

  private async loadModel(e: ChatModelEntry) {
    await checkGgufHeader(e.path)
    const llama = await this.getLlama()
    const model = await llama.loadModel({ modelPath: e.path })
    try {
      // What `new LlamaChat` would pick for this model ('auto'), resolved once.
      const chatWrapper = resolveChatWrapper(model)
      const contextSize = Math.min(this.config.LLAMA_CONTEXT_SIZE, model.trainContextSize)
      e.context = await model.createContext({
        contextSize,
        threads: this.config.threads,
        sequences: this.config.CHAT_MAX_CONCURRENT,
      })
      e.chatWrapper = chatWrapper
      e.model = model
      const meta = model.fileInfo.metadata as {
        general?: { name?: string; architecture?: string }
      }
      e.card.context_length = contextSize
      if (!e.familyGiven)
        e.card.family = `${meta.general?.name ?? 'unknown'} (${meta.general?.architecture ?? '?'})`
      return {
        details: { gpu: llama.gpu || 'cpu', threads: this.config.threads, size_bytes: model.size },
      }
    } catch (err) {
      await model.dispose()
      throw err
    }
  }

  /** The entry serving `model` (an id, an alias, `default` or nothing), via the catalog. */
  resolve(model: string | undefined): ChatModelEntry {
    if (this.entries.size === 0) {
      throw new ApiError(
        404,
        'No chat model is configured on this node. Put a GGUF file in MODEL_DIR/chat/ (see docs/ml-node.md), or send chat to a cloud provider.',
        'invalid_request_error',
        'model',
        'no_chat_model_configured',
      )
    }
    const id = this.catalog.resolve('chat', model)
    const e = this.entries.get(id)
    if (!e) throw this.catalog.notFound('chat', id)
    return e
  }

  /**
   * Waits for a free sequence (bounded queue: 429 beyond it) and loads the model if needed. A
   * caller whose `signal` aborts (client gone, deadline) leaves the queue at once and is never
   * generated for; the error thrown is the signal's reason.
   */
  async acquire(model: string | undefined, signal?: AbortSignal) {
    const e = this.resolve(model)
    await this.slots.acquire(e.id, signal)
    try {
      await untilAborted(e.load.ensure(), signal)
      if (signal?.aborted) throw abortError(signal)
    } catch (err) {
      this.slots.release()
      throw err
    }
    let released = false
    const release = () => {
      if (released) return
      released = true
      this.slots.release()
    }
    return { entry: e, release }
  }

  /** The grammar for a `response_format`; a schema llama.cpp cannot compile is a 400. */
  async grammar(format: ResponseFormat | undefined): Promise<LlamaGrammar | undefined> {
    if (!format || format.type === 'text') return undefined
    const llama = await this.getLlama()
    if (format.type === 'json_object') return llama.getGrammarFor('json')
    const schema = grammarSchema(format.json_schema.schema ?? { type: 'object' })
    try {
      // biome-ignore lint/suspicious/noExplicitAny: any JSON schema the caller sends; llama.cpp checks it
      return await llama.createGrammarForJsonSchema(schema as any)
    } catch (err) {
      throw badRequest(
        'response_format.json_schema.schema',
        `This JSON schema cannot be turned into a grammar: ${(err as Error).message}`,
      )
    }
  }

  async generate(
    e: ChatModelEntry,
    messages: ChatMessage[],
    opts: GenerateOptions,
  ): Promise<GenerateResult> {
    // A caller that left (or ran out of time) before its turn costs no generation at all.
    if (opts.signal.aborted) {
      return { text: '', finishReason: 'stop', promptTokens: 0, completionTokens: 0, aborted: true }
    }
    const context = e.context as LlamaContext
    const sequence = context.getSequence()
    const chat = new LlamaChat({
      contextSequence: sequence,
      chatWrapper: e.chatWrapper ?? 'auto',
      autoDisposeSequence: false,
    })
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
        ...(opts.frequencyPenalty !== undefined || opts.presencePenalty !== undefined
          ? {
              repeatPenalty: {
                frequencyPenalty: opts.frequencyPenalty ?? 0,
                presencePenalty: opts.presencePenalty ?? 0,
              },
            }
          : {}),
        ...(opts.grammar ? { grammar: opts.grammar } : {}),
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
      e.load.close()
      await e.load.ensure().catch(() => undefined)
      await e.context?.dispose()
      await e.model?.dispose()
    }
    if (this.llama) await (await this.llama).dispose()
  }
}
