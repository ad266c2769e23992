import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Config } from '../config.js'
import { card, type ModelCard } from '../models/registry.js'
import type { OnnxModelInfo } from './discovery.js'
import { identityModel } from './onnx-graph.js'

type Transformers = typeof import('@huggingface/transformers')

let loaded: Promise<Transformers> | null = null

/**
 * transformers.js, configured never to reach the network: models load only from local folders
 * (each model is loaded by its absolute folder path; `localModelPath` is MODEL_DIR).
 */
export function transformers(config: Config): Promise<Transformers> {
  loaded ??= import('@huggingface/transformers').then(async (t) => {
    t.env.allowRemoteModels = false
    t.env.allowLocalModels = true
    t.env.useFSCache = false
    t.env.useBrowserCache = false
    await prime(t)
    return t
  })
  return loaded.then((t) => {
    t.env.localModelPath = `${config.MODEL_DIR}/`
    return t
  })
}

/**
 * transformers.js 3.8 awaits the process's first session before creating any other one, so a
 * broken first model would fail every later model with its error. Load a known-good one first.
 */
async function prime(t: Transformers) {
  const dir = mkdtempSync(join(tmpdir(), 'mlnode-onnx-primer-'))
  try {
    mkdirSync(join(dir, 'onnx'))
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }))
    writeFileSync(join(dir, 'onnx', 'model.onnx'), identityModel())
    const model = await t.AutoModel.from_pretrained(dir, { device: 'cpu', dtype: 'fp32' })
    await model.dispose()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The CUDA execution provider library is present (onnxruntime-node's install fetches it). */
export function cudaProviderInstalled(): boolean {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false
  try {
    const req = createRequire(createRequire(import.meta.url).resolve('@huggingface/transformers'))
    const pkg = dirname(req.resolve('onnxruntime-node/package.json'))
    return existsSync(
      join(pkg, 'bin', 'napi-v3', 'linux', 'x64', 'libonnxruntime_providers_cuda.so'),
    )
  } catch {
    return false
  }
}

export type OnnxDevice = 'cuda' | 'cpu'

/** Devices to try in order for this configuration. */
export function devicesFor(config: Config): OnnxDevice[] {
  if (config.ONNX_DEVICE === 'cpu') return ['cpu']
  if (config.ONNX_DEVICE === 'cuda') return ['cuda']
  return cudaProviderInstalled() ? ['cuda', 'cpu'] : ['cpu']
}

/**
 * Load with the first device that works (CUDA, then CPU under `auto`); reports what happened.
 * `ONNX_DEVICE=cuda` fails rather than silently running on the CPU.
 */
export async function withDevice<T>(
  config: Config,
  load: (device: OnnxDevice, sessionOptions: Record<string, unknown>) => Promise<T>,
): Promise<{ value: T; device: OnnxDevice; details: Record<string, unknown> }> {
  const threads = config.ONNX_THREADS > 0 ? config.ONNX_THREADS : config.threads
  const sessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1 }
  const details: Record<string, unknown> = { threads }
  let lastError: unknown = null
  for (const device of devicesFor(config)) {
    try {
      const value = await load(device, sessionOptions)
      return { value, device, details: { ...details, device } }
    } catch (err) {
      lastError = err
      if (device === 'cuda') details.cuda_error = (err as Error).message.slice(0, 300)
    }
  }
  throw lastError
}

/** A short, path-free reason for `/v1/models` and `/readyz`. */
export function loadErrorMessage(info: OnnxModelInfo, err: unknown) {
  const msg = String((err as Error)?.message ?? err)
    .split(info.dir)
    .join(info.source)
  return msg.length > 400 ? `${msg.slice(0, 400)}…` : msg
}

export function onnxCard(
  info: OnnxModelInfo,
  task: ModelCard['task'],
  kind: string,
  extra: Partial<ModelCard> = {},
): ModelCard {
  const cfg = info.config
  const modelType = typeof cfg.model_type === 'string' ? cfg.model_type : 'unknown'
  return card({
    id: info.id,
    task,
    kind: info.fixture ? `fixture (random weights, test only) — ${kind}` : kind,
    family: info.meta.family ?? `${modelType} (from config.json)`,
    runtime: 'onnxruntime (onnxruntime-node via @huggingface/transformers)',
    source: info.source,
    license: info.meta.license ?? 'unknown: add "license" to synthstack.json',
    status: info.problem ? 'failed' : 'loading',
    details: {
      dtype: info.dtype,
      ...(info.problem ? { error: info.problem } : {}),
    },
    ...extra,
  })
}
