import { posix, resolve } from 'node:path'
import { discoverGgufModels, type GgufModelInfo } from '../chat/discovery.js'
import { trainedClassifierEmbeddings } from '../classifiers/store.js'
import type { Config } from '../config.js'
import { type ApiError, badRequest, modelNotFound } from '../http/errors.js'
import {
  discoverOnnxModels,
  inspectModelFolder,
  type OnnxModelInfo,
  type OnnxTask,
  type SynthstackMeta,
} from '../onnx/discovery.js'
import type { ModelCard } from './registry.js'
import {
  fieldPath,
  loadRegistryFile,
  NAMED_TASKS,
  type NamedTask,
  type RegistryEntry,
  registryError,
} from './registry-file.js'

/** A model built into the node (not weights in MODEL_DIR). */
export interface BuiltInModel {
  id: string
  task: ModelCard['task']
  /** The model it runs on: disabling that one disables this one too. */
  uses?: string
}

const isNamed = (task: ModelCard['task'] | undefined): task is NamedTask =>
  (NAMED_TASKS as readonly string[]).includes(task ?? '')

/** What a registry entry says that synthstack.json could also say. */
function overridesOf(e: RegistryEntry): SynthstackMeta {
  const { id: _id, task: _task, path: _path, ...rest } = e
  return rest as SynthstackMeta
}

/**
 * The one place that knows which models this node serves and under which names: built-ins,
 * folders and files found in MODEL_DIR, and the registry file (explicit entries, aliases,
 * defaults, disabled). Services build their models from it and ask it to resolve every `model`
 * a request names. Every inconsistency in the registry file stops start-up naming its field.
 */
export class ModelCatalog {
  /** ONNX models to serve (explicit entries first, then discovered folders); none disabled. */
  readonly onnx: OnnxModelInfo[]
  /** GGUF chat models to serve; none disabled. */
  readonly gguf: GgufModelInfo[]
  /** The registry file that was read, or null. */
  readonly registryPath: string | null
  /** Every model id the node knows at start-up, disabled ones included, and its task. */
  private readonly tasks = new Map<string, ModelCard['task']>()
  private readonly disabled = new Set<string>()
  private readonly aliases = new Map<string, string>()
  private readonly defaults: Partial<Record<NamedTask, string>> = {}

  constructor(config: Config, builtIns: BuiltInModel[]) {
    const loaded = loadRegistryFile(config)
    this.registryPath = loaded?.path ?? null
    const file = loaded?.file ?? { aliases: {}, defaults: {}, models: [], disabled: [] }
    const fail = (field: string, why: string) =>
      registryError(loaded?.path ?? 'registry.json', `${field}: ${why}`)
    for (const b of builtIns) this.tasks.set(b.id, b.task)

    // Explicit entries: an id no other model has, a path no other entry has.
    const explicitOnnx: OnnxModelInfo[] = []
    const explicitGguf: GgufModelInfo[] = []
    const byId = new Map<string, number>()
    const byPath = new Map<string, number>()
    for (const [i, e] of file.models.entries()) {
      if (this.tasks.has(e.id)) {
        throw fail(`models[${i}].id`, `'${e.id}' is already the id of a built-in model`)
      }
      const sameId = byId.get(e.id)
      if (sameId !== undefined) {
        throw fail(`models[${i}].id`, `'${e.id}' is also the id of models[${sameId}]`)
      }
      const abs = resolve(config.MODEL_DIR, e.path)
      const samePath = byPath.get(abs)
      if (samePath !== undefined) {
        throw fail(`models[${i}].path`, `'${e.path}' is also the path of models[${samePath}]`)
      }
      byId.set(e.id, i)
      byPath.set(abs, i)
      const source = `MODEL_DIR/${posix.normalize(e.path).replace(/\/$/, '')}`
      if (e.task === 'chat') {
        explicitGguf.push({
          id: e.id,
          path: abs,
          source,
          fixture: false,
          ...(e.license ? { license: e.license } : {}),
          ...(e.family ? { family: e.family } : {}),
        })
        continue
      }
      const info = inspectModelFolder(abs, e.id, e.task, source, overridesOf(e))
      if (info.fixture && !config.ML_NODE_TEST_ONNX_FIXTURES) {
        throw fail(
          `models[${i}].path`,
          `${source} holds generated test fixture weights (synthstack.json says "fixture": true), served only with ML_NODE_TEST_ONNX_FIXTURES`,
        )
      }
      explicitOnnx.push(info)
    }

    // Discovery finds what no entry claims; a discovered name may not take an entry's id.
    // `default` is never a model: it asks for the task's default.
    const reserved = [...builtIns.map((b) => b.id), 'default']
    const foundOnnx = discoverOnnxModels(
      config,
      reserved,
      explicitOnnx.map((m) => m.dir),
    )
    const taken = new Set([...reserved, ...foundOnnx.map((m) => m.id)])
    const foundGguf = discoverGgufModels(
      config,
      explicitGguf.map((m) => m.path),
    ).filter((m) => {
      if (!taken.has(m.id)) return taken.add(m.id)
      console.warn(`[ml-node] ${m.source} skipped: the model id '${m.id}' is already taken`)
      return false
    })
    for (const m of [...foundOnnx, ...foundGguf]) {
      const i = byId.get(m.id)
      if (i !== undefined) {
        throw fail(
          `models[${i}].id`,
          `'${m.id}' is already the id of ${m.source}; choose another id, or give that path an entry`,
        )
      }
    }
    const onnx = [...explicitOnnx, ...foundOnnx]
    const gguf = [...explicitGguf, ...foundGguf]
    for (const m of onnx) this.tasks.set(m.id, m.task)
    for (const m of gguf) this.tasks.set(m.id, 'chat')

    const known = () => this.namedIds().join(', ')
    const unknown = (id: string) =>
      `'${id}' is not a model on this node${id.startsWith('clf_') ? ' (trained classifiers cannot be named here)' : ''} (known: ${known()})`

    // Disabled: named models only, and none a trained classifier still needs.
    const classifiers = trainedClassifierEmbeddings(config.MODEL_DIR)
    for (const [i, id] of file.disabled.entries()) {
      const task = this.tasks.get(id)
      if (task === undefined) throw fail(`disabled[${i}]`, unknown(id))
      if (!isNamed(task)) {
        throw fail(
          `disabled[${i}]`,
          `'${id}' (${task}) is part of /v1/analyze, which has no model choice; it cannot be disabled`,
        )
      }
      const users = [...classifiers].filter(([, m]) => m === id).map(([clf]) => clf)
      if (users.length > 0) {
        throw fail(
          `disabled[${i}]`,
          `'${id}' is the embedding model of the trained classifier${users.length > 1 ? 's' : ''} ${users.join(', ')} (MODEL_DIR/classifiers), which would stop working; delete ${users.length > 1 ? 'them' : 'it'} (DELETE /v1/classifiers/<id>) or keep '${id}'`,
        )
      }
      this.disabled.add(id)
    }
    for (const b of builtIns) {
      if (b.uses && this.disabled.has(b.uses) && !this.disabled.has(b.id)) {
        this.disabled.add(b.id)
        console.warn(`[ml-node] '${b.id}' is disabled too: it runs on '${b.uses}'`)
      }
    }
    this.onnx = onnx.filter((m) => !this.disabled.has(m.id))
    this.gguf = gguf.filter((m) => !this.disabled.has(m.id))

    // Aliases: new names for served models, never hiding a real id, one level deep.
    for (const [alias, target] of Object.entries(file.aliases)) {
      const field = fieldPath(['aliases', alias])
      if (this.tasks.has(alias)) {
        throw fail(field, `'${alias}' is the id of a model on this node; an alias may not hide it`)
      }
      if (target in file.aliases) {
        throw fail(field, `'${target}' is an alias itself; point at a model id`)
      }
      this.checkTarget(target, field, fail, unknown)
      this.aliases.set(alias, target)
    }

    // Defaults: an id or alias of a served model of that task.
    for (const task of NAMED_TASKS) {
      const target = file.defaults[task]
      if (target === undefined) continue
      const id = this.aliases.get(target) ?? target
      this.checkTarget(id, `defaults.${task}`, fail, unknown)
      const actual = this.tasks.get(id)
      if (actual !== task) {
        throw fail(`defaults.${task}`, `'${target}' is a ${actual} model, not ${task}`)
      }
      this.defaults[task] = id
    }
  }

  private checkTarget(
    id: string,
    field: string,
    fail: (field: string, why: string) => Error,
    unknown: (id: string) => string,
  ) {
    const task = this.tasks.get(id)
    if (task === undefined) throw fail(field, unknown(id))
    if (this.disabled.has(id)) throw fail(field, `'${id}' is disabled (see "disabled")`)
    if (!isNamed(task)) {
      throw fail(field, `'${id}' (${task}) is part of /v1/analyze and is never named in a request`)
    }
  }

  /** Served model ids that requests name, sorted. */
  private namedIds(task?: NamedTask) {
    return [...this.tasks]
      .filter(([id, t]) => isNamed(t) && (task ? t === task : true) && !this.disabled.has(id))
      .map(([id]) => id)
      .sort()
  }

  /** Served, not disabled (built-ins ask before they build themselves). */
  isEnabled(id: string) {
    return this.tasks.has(id) && !this.disabled.has(id)
  }

  /** ONNX models of one task to serve. */
  onnxModels(task: OnnxTask) {
    return this.onnx.filter((m) => m.task === task)
  }

  /** The registry's default for a task (already resolved to a model id), if any. */
  defaultFor(task: NamedTask) {
    return this.defaults[task]
  }

  /**
   * The model id that serves `requested` on a route of `task`: an alias becomes its target; an
   * omitted model or `default` becomes the registry's default, else `fallback()` (a route's own
   * choice, e.g. rerank's first ready cross-encoder). Unknown names are a 404 listing ids and
   * aliases; no default at all is a 400 naming `model`.
   */
  resolve(task: NamedTask, requested: string | undefined, fallback?: () => string | undefined) {
    if (requested === undefined || requested === 'default') {
      const id = this.defaults[task] ?? fallback?.()
      if (id !== undefined) return id
      const how = `set defaults.${task} in the registry file (MODEL_DIR/registry.json)`
      throw requested === undefined
        ? badRequest(
            'model',
            `Missing required parameter: 'model'. This node has no default ${task} model: name one, or ${how}.`,
            'missing_required_parameter',
          )
        : badRequest(
            'model',
            `This node has no default ${task} model: name one, or ${how}.`,
            'no_default_model',
          )
    }
    const id = this.aliases.get(requested) ?? requested
    if (this.tasks.get(id) === task && !this.disabled.has(id)) return id
    throw this.notFound(task, requested)
  }

  /** 404 for a name this route does not serve, listing its model ids and aliases. */
  notFound(task: NamedTask, requested: string, extraIds: string[] = []): ApiError {
    const ids = [...new Set([...extraIds, ...this.namedIds(task)])]
    const aliases = [...this.aliases].filter(([, id]) => this.tasks.get(id) === task)
    const note = this.disabled.has(requested) ? ' (it is disabled in the registry file)' : ''
    return modelNotFound(requested, ids, aliases, note)
  }

  /**
   * `/v1/models`: the served models, then each alias as its own entry carrying its target's card
   * (the same model, so the same task, kind and live status) and `alias_of`.
   */
  withAliases(cards: ModelCard[]): ModelCard[] {
    const served = cards.filter((c) => !this.disabled.has(c.id))
    const byId = new Map(served.map((c) => [c.id, c]))
    const aliases: ModelCard[] = []
    for (const [alias, id] of this.aliases) {
      const target = byId.get(id)
      if (target) aliases.push({ ...target, id: alias, alias_of: id })
    }
    return [...served, ...aliases]
  }

  /** One start-up line describing the registry file, or null without one. */
  summary(): string | null {
    if (!this.registryPath) return null
    const parts = [
      `aliases ${[...this.aliases].map(([a, id]) => `${a}→${id}`).join(' ') || '(none)'}`,
      `defaults ${
        Object.entries(this.defaults)
          .map(([t, id]) => `${t}=${id}`)
          .join(' ') || '(none)'
      }`,
      `disabled ${[...this.disabled].join(' ') || '(none)'}`,
    ]
    return `registry ${this.registryPath}: ${parts.join('; ')}`
  }
}
