import { availableParallelism } from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'

/** The development token, documented in the README. Never use it on a reachable host. */
export const DEV_API_KEY = 'synthstack-ml-dev-token'

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def)
const bool = (def: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === '1' || v === 'true' || v === 'yes')

const schema = z.object({
  PORT: int(8001).pipe(z.number().max(65535)),
  HOST: z.string().min(1).default('127.0.0.1'),
  NODE_ENV: z.string().default('development'),
  ML_NODE_API_KEYS: z.string().optional(),
  MODEL_DIR: z.string().min(1).default(resolve(packageRoot, '.data/models')),
  /** The registry file (aliases, defaults, explicit models, disabled); default MODEL_DIR/registry.json. */
  MODEL_REGISTRY: z.string().min(1).optional(),
  /** Largest JSON body, bytes. */
  BODY_LIMIT_BYTES: int(2 * 1024 * 1024, 1024),
  /** Largest audio upload, bytes. */
  UPLOAD_LIMIT_BYTES: int(25 * 1024 * 1024, 1024),
  /** Dynamic batching: a batch closes at this many items ... */
  BATCH_MAX_SIZE: int(32, 1),
  /** ... or this long after its first item arrived. 0 turns batching off (one request a run). */
  BATCH_MAX_WAIT_MS: int(5, 0),
  BATCHING: bool(true),
  /** Items waiting per model before new work gets 429; at least MAX_INPUTS_PER_REQUEST. */
  QUEUE_MAX_ITEMS: int(2048, 1),
  REQUEST_TIMEOUT_MS: int(30_000, 1),
  /** OpenAI's own limit for embeddings inputs. */
  MAX_INPUTS_PER_REQUEST: int(2048, 1),
  MAX_INPUT_CHARS: int(20_000, 1),
  /** Threads for llama.cpp; 0 = the machine's core count. */
  LLAMA_THREADS: int(0, 0),
  LLAMA_GPU: z.enum(['auto', 'cuda', 'vulkan', 'off']).default('auto'),
  LLAMA_CONTEXT_SIZE: int(2048, 64),
  CHAT_MAX_TOKENS: int(512, 1),
  CHAT_MAX_CONCURRENT: int(1, 1),
  CHAT_QUEUE_MAX: int(16, 0),
  /** Chat deadline: queue wait, model load and generation together. */
  CHAT_TIMEOUT_MS: int(120_000, 1),
  /** Transcription deadline: conversion and recognition together. */
  TRANSCRIBE_TIMEOUT_MS: int(120_000, 1),
  /** After a failed model load, the next attempt waits this long, doubling per failure ... */
  MODEL_LOAD_RETRY_MS: int(30_000, 1),
  /** ... up to this. */
  MODEL_LOAD_RETRY_MAX_MS: int(300_000, 1),
  /** Test-only: a GGUF fixture served under the id `fixture-tiny-random`. Never for users. */
  ML_NODE_TEST_CHAT_FIXTURE: z.string().optional(),
  /** ONNX models (transformers.js): auto = CUDA when its provider library is installed, else CPU. */
  ONNX_DEVICE: z.enum(['auto', 'cuda', 'cpu']).default('auto'),
  /** Threads per ONNX Runtime session; 0 = the machine's core count. */
  ONNX_THREADS: int(0, 0),
  /** Test-only: a folder laid out like MODEL_DIR holding random-weight ONNX fixtures. Never for users. */
  ML_NODE_TEST_ONNX_FIXTURES: z.string().optional(),
  POCKETSPHINX_BIN: z.string().default('pocketsphinx_continuous'),
  SOX_BIN: z.string().default('sox'),
  LOG_REQUESTS: bool(false),
})

export type Config = Omit<z.infer<typeof schema>, 'ML_NODE_API_KEYS'> & {
  apiKeys: string[]
  threads: number
  usingDevKey: boolean
}

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')),
  )
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`invalid ml-node configuration:\n${lines.join('\n')}`)
  }
  const { ML_NODE_API_KEYS, ...rest } = parsed.data
  const keys = (ML_NODE_API_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
  const production = rest.NODE_ENV === 'production'
  if (keys.length === 0 && production) {
    throw new ConfigError('ML_NODE_API_KEYS is required when NODE_ENV=production')
  }
  if (keys.some((k) => k.length < 16)) {
    throw new ConfigError('ML_NODE_API_KEYS: every token must be at least 16 characters')
  }
  return checkConfig({
    ...rest,
    apiKeys: keys.length > 0 ? keys : [DEV_API_KEY],
    usingDevKey: keys.length === 0,
    threads: 0,
  })
}

/** Rules between variables; also run on programmatic overrides (startServer). */
export function checkConfig(config: Config): Config {
  if (config.QUEUE_MAX_ITEMS < config.MAX_INPUTS_PER_REQUEST) {
    throw new ConfigError(
      `QUEUE_MAX_ITEMS (${config.QUEUE_MAX_ITEMS}) must be at least MAX_INPUTS_PER_REQUEST (${config.MAX_INPUTS_PER_REQUEST}), or a request of that size could never be queued`,
    )
  }
  if (config.MODEL_LOAD_RETRY_MAX_MS < config.MODEL_LOAD_RETRY_MS) {
    throw new ConfigError(
      `MODEL_LOAD_RETRY_MAX_MS (${config.MODEL_LOAD_RETRY_MAX_MS}) must be at least MODEL_LOAD_RETRY_MS (${config.MODEL_LOAD_RETRY_MS})`,
    )
  }
  // Derived here, not in loadConfig, so a programmatic LLAMA_THREADS override takes effect too.
  return {
    ...config,
    threads: config.LLAMA_THREADS > 0 ? config.LLAMA_THREADS : availableParallelism(),
  }
}
