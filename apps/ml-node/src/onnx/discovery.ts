import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import type { Config } from '../config.js'
import type { TextPrefixes } from '../embeddings/input-type.js'

export type OnnxTask = 'embeddings' | 'rerank' | 'transcription'

/** `MODEL_DIR/<folder>/<name>` holds one Hugging Face-layout ONNX model per task. */
export const TASK_FOLDERS: Record<OnnxTask, string> = {
  embeddings: 'embeddings',
  rerank: 'rerankers',
  transcription: 'whisper',
}

/** Optional `synthstack.json` beside a model: what its config.json cannot say. */
export interface SynthstackMeta extends TextPrefixes {
  family?: string
  license?: string
  dimensions?: number
  /** Embedders: how token vectors become one vector. Default mean. */
  pooling?: 'mean' | 'cls'
  /** Embedders: L2-normalise the result. Default true. */
  normalize?: boolean
  /** Cross-encoders: logits → relevance score. Default sigmoid (one label) or softmax (two). */
  activation?: 'sigmoid' | 'softmax' | 'none'
  /** `fp32` (onnx/model.onnx) or `q8` (onnx/model_quantized.onnx); found from the files when absent. */
  dtype?: 'fp32' | 'q8' | 'fp16'
  /** Generated test fixture: only served with ML_NODE_TEST_ONNX_FIXTURES. */
  fixture?: boolean
}

export interface OnnxModelInfo {
  id: string
  task: OnnxTask
  dir: string
  /** Shown in `/v1/models`: `MODEL_DIR/embeddings/<name>` or the fixture path. */
  source: string
  fixture: boolean
  config: Record<string, unknown>
  meta: SynthstackMeta
  dtype: 'fp32' | 'q8' | 'fp16'
  /** Why this folder cannot be served; the model is listed as failed with this message. */
  problem?: string
  /**
   * Fields from a registry.json entry: they win over synthstack.json, and are re-applied when the
   * folder is read again. Set only for explicit entries, whose id need not be the folder name.
   */
  overrides?: SynthstackMeta
}

const SUFFIX = { fp32: '', q8: '_quantized', fp16: '_fp16' } as const
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/

function readJsonFile(path: string): Record<string, unknown> {
  const v = JSON.parse(readFileSync(path, 'utf8')) as unknown
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object')
  return v as Record<string, unknown>
}

/** Which ONNX files a task needs, by base name under `onnx/`. */
const NEEDED: Record<OnnxTask, string[]> = {
  embeddings: ['model'],
  rerank: ['model'],
  transcription: ['encoder_model', 'decoder_model_merged'],
}
const EXTRA_JSON: Record<OnnxTask, string[]> = {
  embeddings: ['tokenizer.json', 'tokenizer_config.json'],
  rerank: ['tokenizer.json', 'tokenizer_config.json'],
  transcription: [
    'tokenizer.json',
    'tokenizer_config.json',
    'generation_config.json',
    'preprocessor_config.json',
  ],
}

/** Checks one model folder; never throws, a bad folder comes back with `problem` set. */
export function inspectModelFolder(
  dir: string,
  id: string,
  task: OnnxTask,
  source: string,
  overrides?: SynthstackMeta,
): OnnxModelInfo {
  const info: OnnxModelInfo = {
    id,
    task,
    dir,
    source,
    fixture: false,
    config: {},
    meta: { ...overrides },
    dtype: 'fp32',
    ...(overrides ? { overrides } : {}),
  }
  const fail = (problem: string) => Object.assign(info, { problem })
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return fail('the folder does not exist')
  try {
    if (existsSync(join(dir, 'synthstack.json'))) {
      const file = readJsonFile(join(dir, 'synthstack.json')) as SynthstackMeta
      info.meta = { ...file, ...overrides }
      // Whether weights are a generated fixture is the folder's fact; an entry cannot change it.
      info.fixture = file.fixture === true
    }
  } catch (err) {
    return fail(`synthstack.json is not valid JSON (${(err as Error).message})`)
  }
  if (!existsSync(join(dir, 'config.json'))) return fail('config.json is missing')
  try {
    info.config = readJsonFile(join(dir, 'config.json'))
  } catch (err) {
    return fail(`config.json is not valid JSON (${(err as Error).message})`)
  }
  for (const f of EXTRA_JSON[task]) {
    if (!existsSync(join(dir, f))) return fail(`${f} is missing`)
    try {
      readJsonFile(join(dir, f))
    } catch (err) {
      return fail(`${f} is not valid JSON (${(err as Error).message})`)
    }
  }
  const onnxDir = join(dir, 'onnx')
  const candidates = info.meta.dtype ? [info.meta.dtype] : (['fp32', 'q8', 'fp16'] as const)
  const dtype = candidates.find((d) =>
    NEEDED[task].every((base) => existsSync(join(onnxDir, `${base}${SUFFIX[d]}.onnx`))),
  )
  if (!dtype) {
    const want = NEEDED[task].map((b) => `onnx/${b}.onnx`).join(' and ')
    return fail(`${want} (or the _quantized/_fp16 variant) is missing`)
  }
  info.dtype = dtype
  for (const base of NEEDED[task]) {
    if (statSync(join(onnxDir, `${base}${SUFFIX[dtype]}.onnx`)).size === 0) {
      return fail(`onnx/${base}${SUFFIX[dtype]}.onnx is empty`)
    }
  }
  return info
}

/**
 * Reads a model folder again before a load attempt, so a folder fixed in place (a file added or
 * replaced) loads on the next attempt without a restart. A bad folder name stays bad.
 */
export function refreshModelFolder(info: OnnxModelInfo) {
  if (!info.overrides && !NAME.test(basename(info.dir))) return
  const fresh = inspectModelFolder(info.dir, info.id, info.task, info.source, info.overrides)
  info.config = fresh.config
  info.meta = fresh.meta
  info.dtype = fresh.dtype
  if (fresh.problem) info.problem = fresh.problem
  else delete info.problem
}

function scanRoot(
  root: string,
  label: string,
  fixtureRoot: boolean,
  allowFixtures: boolean,
  skip: Set<string>,
) {
  const found: OnnxModelInfo[] = []
  for (const [task, folder] of Object.entries(TASK_FOLDERS) as [OnnxTask, string][]) {
    const base = join(root, folder)
    if (!existsSync(base)) continue
    for (const name of readdirSync(base).sort()) {
      const dir = join(base, name)
      if (!statSync(dir).isDirectory() || skip.has(resolve(dir))) continue
      const source = `${label}/${folder}/${name}`
      if (!NAME.test(name)) {
        found.push({
          ...inspectModelFolder(dir, name, task, source),
          problem: `folder name '${name}' is not a valid model id (letters, digits, . _ -)`,
        })
        continue
      }
      const info = inspectModelFolder(dir, name, task, source)
      if (fixtureRoot) info.fixture = true
      if (info.fixture && !allowFixtures) continue
      found.push(info)
    }
  }
  return found
}

/**
 * Every ONNX model folder under MODEL_DIR, plus the test fixtures when ML_NODE_TEST_ONNX_FIXTURES
 * names their root. Folders marked `fixture` in synthstack.json are never offered without it.
 * `skipDirs` (absolute) are folders a registry.json entry already claims.
 */
export function discoverOnnxModels(
  config: Config,
  reserved: string[] = [],
  skipDirs: string[] = [],
): OnnxModelInfo[] {
  const fixtures = config.ML_NODE_TEST_ONNX_FIXTURES
  const skip = new Set(skipDirs.map((d) => resolve(d)))
  const found = scanRoot(config.MODEL_DIR, 'MODEL_DIR', false, fixtures !== undefined, skip)
  if (fixtures) found.push(...scanRoot(fixtures, fixtures, true, true, skip))
  const seen = new Set<string>(reserved)
  return found.filter((m) => {
    if (seen.has(m.id)) {
      console.warn(`[ml-node] ${m.source} skipped: the model id '${m.id}' is already taken`)
      return false
    }
    seen.add(m.id)
    return true
  })
}
