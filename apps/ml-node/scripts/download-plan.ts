// What `models:download` will fetch and where it goes, worked out from the arguments alone (no
// network), so that the layout can be tested against what src/onnx/discovery.ts accepts.
import { join } from 'node:path'
import { type OnnxTask, type SynthstackMeta, TASK_FOLDERS } from '../src/onnx/discovery.js'
import { CATALOG, type CatalogEntry } from './model-catalog.js'

export type Dtype = 'fp32' | 'q8' | 'fp16'

export interface FileToFetch {
  url: string
  /** Path inside the model folder (or the file name, for a GGUF). */
  path: string
}

interface PlanBase {
  name: string
  /** Final place: `MODEL_DIR/chat/<name>.gguf` or the folder `MODEL_DIR/<task folder>/<name>`. */
  dest: string
  files: FileToFetch[]
  force: boolean
}

export type DownloadPlan =
  | (PlanBase & { kind: 'gguf'; task: 'chat' })
  | (PlanBase & {
      kind: 'onnx'
      task: OnnxTask
      /** Written beside the model as synthstack.json. */
      meta: SynthstackMeta
    })

export class UsageError extends Error {}

// The ids discovery accepts as folder names (src/onnx/discovery.ts, NAME).
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/
const REPO = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/
const SUFFIX: Record<Dtype, string> = { fp32: '', q8: '_quantized', fp16: '_fp16' }
const TASKS: Record<string, OnnxTask> = {
  embeddings: 'embeddings',
  rerank: 'rerank',
  reranker: 'rerank',
  transcription: 'transcription',
  whisper: 'transcription',
}

/** The files each task needs: the JSON files and the ONNX graphs (base names under onnx/). */
const JSON_FILES: Record<OnnxTask, string[]> = {
  embeddings: ['config.json', 'tokenizer.json', 'tokenizer_config.json'],
  rerank: ['config.json', 'tokenizer.json', 'tokenizer_config.json'],
  transcription: [
    'config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'generation_config.json',
    'preprocessor_config.json',
  ],
}
const GRAPHS: Record<OnnxTask, string[]> = {
  embeddings: ['model'],
  rerank: ['model'],
  transcription: ['encoder_model', 'decoder_model_merged'],
}

export const USAGE = `usage: models:download NAME [--dtype fp32|q8|fp16] [--force]
       models:download --url URL --name ID                      (any GGUF chat model)
       models:download --repo OWNER/NAME --task embeddings|rerank|whisper --name ID
                       [--dtype fp32|q8|fp16] [--revision REV] [--license L] [--force]
       models:download --list
Downloads into MODEL_DIR (chat/, embeddings/, rerankers/, whisper/). Needs internet.
Known names: ${Object.keys(CATALOG).join(', ')}`

const FLAGS_WITH_VALUE = new Set([
  '--url',
  '--name',
  '--repo',
  '--task',
  '--dtype',
  '--revision',
  '--license',
])
const BOOL_FLAGS = new Set(['--force', '--list'])

export function parseArgs(args: string[]) {
  const flags = new Map<string, string>()
  const bools = new Set<string>()
  const positional: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    if (FLAGS_WITH_VALUE.has(a)) {
      const v = args[++i]
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`)
      if (flags.has(a)) throw new UsageError(`${a} given twice`)
      flags.set(a, v)
    } else if (BOOL_FLAGS.has(a)) bools.add(a)
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`)
    else positional.push(a)
  }
  if (positional.length > 1)
    throw new UsageError(`one model name at a time, got ${positional.join(' ')}`)
  return { flags, bools, name: positional[0] }
}

const hfUrl = (repo: string, revision: string, path: string) =>
  `https://huggingface.co/${repo}/resolve/${encodeURIComponent(revision)}/${path}`

/** A GGUF chat model: one file, saved as MODEL_DIR/chat/<name>.gguf. */
function ggufPlan(
  modelDir: string,
  name: string,
  url: string,
  dtype: string | undefined,
  force: boolean,
): DownloadPlan {
  if (dtype) throw new UsageError('--dtype applies to ONNX models, not to a GGUF')
  return {
    kind: 'gguf',
    name,
    task: 'chat',
    dest: join(modelDir, 'chat', `${name}.gguf`),
    files: [{ url, path: `${name}.gguf` }],
    force,
  }
}

function onnxPlan(
  modelDir: string,
  name: string,
  task: OnnxTask,
  repo: string,
  revision: string,
  dtype: Dtype | undefined,
  meta: SynthstackMeta,
  force: boolean,
): DownloadPlan {
  const d = dtype ?? 'fp32'
  const paths = [
    ...JSON_FILES[task],
    ...GRAPHS[task].map((base) => `onnx/${base}${SUFFIX[d]}.onnx`),
  ]
  return {
    kind: 'onnx',
    name,
    task,
    dest: join(modelDir, TASK_FOLDERS[task], name),
    files: paths.map((path) => ({ path, url: hfUrl(repo, revision, path) })),
    // A dtype asked for is pinned, so the node loads that file and no other.
    meta: dtype ? { ...meta, dtype } : meta,
    force,
  }
}

/** Turns the arguments into a plan; throws UsageError naming what is wrong. */
export function planDownload(args: string[], modelDir: string): DownloadPlan | 'list' {
  const { flags, bools, name: positional } = parseArgs(args)
  if (bools.has('--list')) return 'list'
  const force = bools.has('--force')
  const dtypeArg = flags.get('--dtype')
  if (dtypeArg !== undefined && !(dtypeArg in SUFFIX)) {
    throw new UsageError(`--dtype must be fp32, q8 or fp16, not '${dtypeArg}'`)
  }
  const dtype = dtypeArg as Dtype | undefined
  const revision = flags.get('--revision') ?? 'main'
  if (!REVISION.test(revision) || revision.includes('..')) {
    throw new UsageError(`--revision '${revision}' is not a branch, tag or commit`)
  }
  const name = flags.get('--name') ?? positional
  if (!name) throw new UsageError('name a model (or --list)')
  if (!NAME.test(name)) {
    throw new UsageError(`'${name}' is not a valid model id (letters, digits, . _ -, up to 96)`)
  }

  const url = flags.get('--url')
  const repo = flags.get('--repo')
  if (url && repo) throw new UsageError('--url (a GGUF) and --repo (ONNX) exclude each other')
  if (url) {
    if (!/^https?:\/\/\S+$/.test(url)) throw new UsageError(`--url '${url}' is not an http(s) URL`)
    return ggufPlan(modelDir, name, url, dtype, force)
  }
  if (repo) {
    if (!REPO.test(repo)) throw new UsageError(`--repo '${repo}' is not owner/name`)
    const taskArg = flags.get('--task')
    const task = taskArg ? TASKS[taskArg] : undefined
    if (!task) throw new UsageError('--repo needs --task embeddings, rerank or whisper')
    const license = flags.get('--license')
    const meta: SynthstackMeta = { family: repo, ...(license ? { license } : {}) }
    return onnxPlan(modelDir, name, task, repo, revision, dtype, meta, force)
  }
  if (flags.has('--task') || flags.has('--license')) {
    throw new UsageError('--task and --license go with --repo')
  }

  const entry: CatalogEntry | undefined = Object.hasOwn(CATALOG, name) ? CATALOG[name] : undefined
  if (!entry) throw new UsageError(`unknown model '${name}'. ${USAGE.split('\n').at(-1)}`)
  if (entry.kind === 'gguf') {
    return ggufPlan(modelDir, name, entry.url, dtype, force)
  }
  return onnxPlan(modelDir, name, entry.task, entry.repo, revision, dtype, entry.meta, force)
}
