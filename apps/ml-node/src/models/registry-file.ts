import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { z } from 'zod'
import { type Config, ConfigError } from '../config.js'

/** Tasks a request chooses a model for by name (`model` in the body). */
export const NAMED_TASKS = ['embeddings', 'rerank', 'chat', 'transcription'] as const
export type NamedTask = (typeof NAMED_TASKS)[number]

/**
 * Model ids and alias names: what clients send as `model`. Colons and slashes are allowed for
 * names such as `openai/gpt-4o-mini`; `clf_` belongs to trained classifiers.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/
const name = z
  .string()
  .regex(NAME, 'must be 1-128 letters, digits or . _ - : / and start with a letter or digit')
  .refine((n) => n !== 'default', "'default' is reserved: it asks for the task's default model")
  .refine((n) => !n.startsWith('clf_'), "names starting with 'clf_' belong to trained classifiers")

/** A path inside MODEL_DIR: relative, without `..`, not MODEL_DIR itself. */
const inside = z
  .string()
  .min(1)
  .refine(
    (p) => !isAbsolute(p) && !/^[A-Za-z]:/.test(p) && !p.startsWith('\\'),
    'must be relative to MODEL_DIR, not absolute',
  )
  .refine((p) => !p.split(/[\\/]/).includes('..'), "must stay inside MODEL_DIR (no '..')")
  .refine((p) => p.split(/[\\/]/).some((s) => s !== '' && s !== '.'), 'must name a folder or file')

const common = {
  id: name,
  path: inside,
  license: z.string().min(1).max(200).optional(),
  family: z.string().min(1).max(200).optional(),
}
const dtype = z.enum(['fp32', 'q8', 'fp16']).optional()

/** One explicit model: what synthstack.json can say, for weights anywhere in MODEL_DIR. */
const entry = z.discriminatedUnion(
  'task',
  [
    z.strictObject({
      ...common,
      task: z.literal('embeddings'),
      pooling: z.enum(['mean', 'cls']).optional(),
      normalize: z.boolean().optional(),
      prefix: z.string().max(200).optional(),
      queryPrefix: z.string().max(200).optional(),
      passagePrefix: z.string().max(200).optional(),
      dimensions: z.number().int().positive().optional(),
      dtype,
    }),
    z.strictObject({
      ...common,
      task: z.literal('rerank'),
      activation: z.enum(['sigmoid', 'softmax', 'none']).optional(),
      dtype,
    }),
    z.strictObject({ ...common, task: z.literal('transcription'), dtype }),
    z.strictObject({
      ...common,
      task: z.literal('chat'),
      path: inside.refine((p) => p.toLowerCase().endsWith('.gguf'), 'must name a .gguf file'),
    }),
  ],
  { error: `must be one of ${NAMED_TASKS.join(', ')}` },
)

export const registrySchema = z.strictObject({
  /** Free text for the operator (JSON has no comments). */
  $comment: z.string().optional(),
  aliases: z.record(name, z.string().min(1)).default({}),
  defaults: z
    .strictObject(Object.fromEntries(NAMED_TASKS.map((t) => [t, z.string().min(1).optional()])))
    .default({}),
  models: z.array(entry).default([]),
  disabled: z.array(z.string().min(1)).default([]),
})

export type RegistryFile = z.infer<typeof registrySchema> & {
  defaults: Partial<Record<NamedTask, string>>
}
export type RegistryEntry = z.infer<typeof entry>

/** `models[0].path`, `aliases["rerank-english-v3.0"]`: how a field is named in errors. */
export function fieldPath(path: readonly PropertyKey[]) {
  let out = ''
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`
    else if (/^[A-Za-z_$][\w$]*$/.test(String(p))) out += out ? `.${String(p)}` : String(p)
    else out += `[${JSON.stringify(String(p))}]`
  }
  return out || '(top level)'
}

/** `field: why` for a zod issue, the field named down to the unknown key or bad record key. */
function describeIssue(issue: z.core.$ZodIssue | undefined) {
  if (!issue) return '(top level): invalid'
  if (issue.code === 'unrecognized_keys') {
    return `${fieldPath([...issue.path, issue.keys[0] ?? ''])}: unknown field`
  }
  if (issue.code === 'invalid_key') {
    return `${fieldPath(issue.path)}: ${issue.issues[0]?.message ?? issue.message}`
  }
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    return `${fieldPath(issue.path)}: is required`
  }
  return `${fieldPath(issue.path)}: ${issue.message}`
}

/** Where the registry file is, and whether it must exist (MODEL_REGISTRY set). */
export function registryPath(config: Pick<Config, 'MODEL_DIR' | 'MODEL_REGISTRY'>) {
  return config.MODEL_REGISTRY
    ? { path: resolve(config.MODEL_REGISTRY), required: true }
    : { path: join(config.MODEL_DIR, 'registry.json'), required: false }
}

/** The start-up error for this file: one line naming it and the field. */
export const registryError = (path: string, why: string) =>
  new ConfigError(`MODEL_REGISTRY (${path}) cannot be used: ${why}`)

/**
 * Reads and validates the registry file; null when there is none (and none was asked for).
 * Cross-checks against the node's models (unknown targets, duplicates) are the catalog's.
 */
export function loadRegistryFile(
  config: Pick<Config, 'MODEL_DIR' | 'MODEL_REGISTRY'>,
): { path: string; file: RegistryFile } | null {
  const { path, required } = registryPath(config)
  if (!existsSync(path)) {
    if (required) throw registryError(path, 'the file does not exist')
    return null
  }
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EISDIR') throw registryError(path, 'it is a directory, not a file')
    if (code === 'EACCES' || code === 'EPERM') throw registryError(path, 'permission denied')
    throw registryError(path, `it is not valid JSON (${(err as Error).message})`)
  }
  const parsed = registrySchema.safeParse(raw)
  if (!parsed.success) {
    const [first, ...rest] = parsed.error.issues
    const more = rest.length > 0 ? ` (and ${rest.length} more)` : ''
    throw registryError(path, `${describeIssue(first)}${more}`)
  }
  return { path, file: parsed.data as RegistryFile }
}
