// Named models that `models:download` knows. Chat: one GGUF file. ONNX (embedders, cross-encoder
// rerankers, Whisper): Hugging Face repositories in the transformers.js layout (Xenova/…,
// onnx-community/…), with what their config.json cannot say written to synthstack.json.
import type { OnnxTask, SynthstackMeta } from '../src/onnx/discovery.js'

export interface GgufEntry {
  kind: 'gguf'
  url: string
  license: string
}

export interface OnnxEntry {
  kind: 'onnx'
  task: OnnxTask
  /** Hugging Face repository, owner/name. */
  repo: string
  meta: SynthstackMeta
}

export type CatalogEntry = GgufEntry | OnnxEntry

export const CATALOG: Record<string, CatalogEntry> = {
  'qwen2.5-0.5b-instruct': {
    kind: 'gguf',
    url: 'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf',
    license: 'Apache-2.0',
  },
  'qwen2.5-1.5b-instruct': {
    kind: 'gguf',
    url: 'https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/main/qwen2.5-1.5b-instruct-q4_k_m.gguf',
    license: 'Apache-2.0',
  },
  'llama-3.2-1b-instruct': {
    kind: 'gguf',
    url: 'https://huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/main/Llama-3.2-1B-Instruct-Q4_K_M.gguf',
    license: 'Llama 3.2 Community License',
  },
  'bge-small-en-v1.5': {
    kind: 'onnx',
    task: 'embeddings',
    repo: 'Xenova/bge-small-en-v1.5',
    meta: {
      family: 'BAAI bge-small-en-v1.5',
      license: 'MIT',
      pooling: 'cls',
      normalize: true,
      dimensions: 384,
    },
  },
  'all-MiniLM-L6-v2': {
    kind: 'onnx',
    task: 'embeddings',
    repo: 'Xenova/all-MiniLM-L6-v2',
    meta: {
      family: 'sentence-transformers all-MiniLM-L6-v2',
      license: 'Apache-2.0',
      pooling: 'mean',
      normalize: true,
      dimensions: 384,
    },
  },
  'e5-small-v2': {
    kind: 'onnx',
    task: 'embeddings',
    repo: 'Xenova/e5-small-v2',
    meta: {
      family: 'intfloat e5-small-v2',
      license: 'MIT',
      pooling: 'mean',
      normalize: true,
      prefix: 'query: ',
      queryPrefix: 'query: ',
      passagePrefix: 'passage: ',
      dimensions: 384,
    },
  },
  'ms-marco-MiniLM-L-6-v2': {
    kind: 'onnx',
    task: 'rerank',
    repo: 'Xenova/ms-marco-MiniLM-L-6-v2',
    meta: {
      family: 'cross-encoder ms-marco-MiniLM-L-6-v2',
      license: 'Apache-2.0',
      activation: 'sigmoid',
    },
  },
  'bge-reranker-base': {
    kind: 'onnx',
    task: 'rerank',
    repo: 'Xenova/bge-reranker-base',
    meta: { family: 'BAAI bge-reranker-base', license: 'MIT', activation: 'sigmoid' },
  },
  'whisper-tiny.en': {
    kind: 'onnx',
    task: 'transcription',
    repo: 'onnx-community/whisper-tiny.en',
    meta: { family: 'OpenAI Whisper tiny.en', license: 'MIT' },
  },
  'whisper-base': {
    kind: 'onnx',
    task: 'transcription',
    repo: 'onnx-community/whisper-base',
    meta: { family: 'OpenAI Whisper base (multilingual)', license: 'MIT' },
  },
}
