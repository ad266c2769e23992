// The ml bench's own variables (documented at the top of index.ts), checked before anything runs:
// a typo must stop the run with the variable's name, not quietly measure something else.
import { resolve } from 'node:path'

export type BenchGpu = 'off' | 'auto' | 'cuda' | 'vulkan'

export interface MlBenchSettings {
  clients: number
  batchedRequests: number
  unbatchedRequests: number
  chatTokens: number
  /** LLAMA_GPU, for the servers and the in-process chat baseline alike. */
  gpu: BenchGpu
  /** BENCH_CHAT_GGUF as an absolute path; null = the random-weight fixture. */
  chatGguf: string | null
}

export class SettingsError extends Error {}

function count(env: Record<string, string | undefined>, name: string, def: number, max: number) {
  const raw = env[name]
  if (raw === undefined || raw === '') return def
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN
  if (!(n >= 1 && n <= max)) {
    throw new SettingsError(`${name} must be a whole number from 1 to ${max}, got '${raw}'`)
  }
  return n
}

/** The chat context both sides use; the replies must fit beside the prompt. */
export const CHAT_CONTEXT = 2048

export function readSettings(
  env: Record<string, string | undefined> = process.env,
): MlBenchSettings {
  const gpu = env.LLAMA_GPU || 'off'
  if (gpu !== 'off' && gpu !== 'auto' && gpu !== 'cuda' && gpu !== 'vulkan') {
    throw new SettingsError(`LLAMA_GPU must be off, auto, cuda or vulkan, got '${gpu}'`)
  }
  const gguf = env.BENCH_CHAT_GGUF
  return {
    clients: count(env, 'BENCH_ML_CLIENTS', 64, 4096),
    batchedRequests: count(env, 'BENCH_ML_REQUESTS', 1536, 1_000_000),
    unbatchedRequests: count(env, 'BENCH_ML_UNBATCHED_REQUESTS', 384, 1_000_000),
    chatTokens: count(env, 'BENCH_ML_CHAT_TOKENS', 128, CHAT_CONTEXT - 512),
    gpu,
    chatGguf: gguf ? resolve(gguf) : null,
  }
}
