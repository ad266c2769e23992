// Baseline for the chat figures: the same GGUF driven in this process straight through
// node-llama-cpp (LlamaChat, as the ml-node's chat service does), no HTTP, no SSE, no queue.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

// node-llama-cpp is the ml-node's dependency, not the bench's: resolve it from there.
const require = createRequire(new URL('../../apps/ml-node/package.json', import.meta.url))

interface Sequence {
  tokenMeter: { getState(): unknown; diff(s: unknown): { usedOutputTokens: number } }
  clearHistory(): Promise<void>
  dispose(): void
}
interface Llama {
  gpu: string | false
  loadModel(o: { modelPath: string }): Promise<Model>
  dispose(): Promise<void>
}
interface Model {
  trainContextSize: number
  createContext(o: { contextSize: number; threads: number }): Promise<Context>
  dispose(): Promise<void>
}
interface Context {
  getSequence(): Sequence
  dispose(): Promise<void>
}
interface Chat {
  generateResponse(
    history: unknown[],
    o: { maxTokens: number; temperature: number; onTextChunk: (t: string) => void },
  ): Promise<unknown>
  dispose(o: { disposeSequence: boolean }): void
}
interface Nlc {
  getLlama(o: {
    gpu: false | 'auto' | 'cuda' | 'vulkan'
    build: 'never'
    maxThreads: number
    logLevel: unknown
    progressLogs: false
  }): Promise<Llama>
  LlamaChat: new (o: { contextSequence: Sequence; autoDisposeSequence: boolean }) => Chat
  LlamaLogLevel: { error: unknown }
}

export interface ChatRun {
  ttftMs: number
  tokPerS: number
}

export interface InProcessChat {
  gpu: string
  run(): Promise<ChatRun>
  close(): Promise<void>
}

/** Loads the GGUF once; each run() answers the prompt on a fresh sequence, as the server does. */
export async function openInProcessChat(opts: {
  modelPath: string
  prompt: string
  maxTokens: number
  threads: number
  contextSize: number
  gpu: false | 'auto' | 'cuda' | 'vulkan'
}): Promise<InProcessChat> {
  const nlc = (await import(pathToFileURL(require.resolve('node-llama-cpp')).href)) as Nlc
  const llama = await nlc.getLlama({
    gpu: opts.gpu,
    build: 'never',
    maxThreads: opts.threads,
    logLevel: nlc.LlamaLogLevel.error,
    progressLogs: false,
  })
  const model = await llama.loadModel({ modelPath: opts.modelPath })
  const context = await model.createContext({
    contextSize: Math.min(opts.contextSize, model.trainContextSize),
    threads: opts.threads,
  })
  return {
    gpu: llama.gpu || 'cpu',
    async run() {
      const sequence = context.getSequence()
      const chat = new nlc.LlamaChat({ contextSequence: sequence, autoDisposeSequence: false })
      const before = sequence.tokenMeter.getState()
      const started = performance.now()
      let first = 0
      await chat.generateResponse(
        [
          { type: 'user', text: opts.prompt },
          { type: 'model', response: [] },
        ],
        {
          maxTokens: opts.maxTokens,
          temperature: 0,
          onTextChunk: (t) => {
            if (!first && t.length > 0) first = performance.now()
          },
        },
      )
      const end = performance.now()
      const tokens = sequence.tokenMeter.diff(before).usedOutputTokens
      chat.dispose({ disposeSequence: false })
      await sequence.clearHistory()
      sequence.dispose()
      return { ttftMs: first - started, tokPerS: tokens / ((end - first) / 1000) }
    },
    async close() {
      await context.dispose()
      await model.dispose()
      await llama.dispose()
    },
  }
}
