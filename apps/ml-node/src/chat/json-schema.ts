import { badRequest } from '../http/errors.js'

/** Keywords node-llama-cpp 3.21's JSON-schema grammar enforces (its GbnfJsonSchema type). */
const ENFORCED = new Set([
  '$defs',
  '$ref',
  'additionalProperties',
  'const',
  'enum',
  'format',
  'items',
  'maxItems',
  'maxLength',
  'maxProperties',
  'minItems',
  'minLength',
  'minProperties',
  'oneOf',
  'prefixItems',
  'properties',
  'required',
  'type',
])
/** Annotations: they constrain nothing, so they can be kept as they are. */
const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  'examples',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
])
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'])
const FORMATS = new Set(['date-time', 'time', 'date'])
/** Keywords whose value is a map of sub-schemas, or a list of them, or one. */
const SCHEMA_MAPS = new Set(['properties', '$defs'])
const SCHEMA_LISTS = new Set(['oneOf', 'prefixItems'])
const SCHEMA_ONE = new Set(['items', 'additionalProperties'])

const PARAM = 'response_format.json_schema.schema'

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * Checks a `json_schema` response format against what the grammar can enforce, so that no
 * constraint is silently dropped (node-llama-cpp ignores unknown keywords and turns an unknown
 * type into `null`): anything else is a 400 naming the spot. `anyOf` becomes `oneOf` (any one
 * alternative satisfies both). Returns the schema to compile.
 */
export function grammarSchema(schema: unknown, at = ''): unknown {
  const where = at || '(root)'
  if (typeof schema === 'boolean') {
    throw badRequest(PARAM, `JSON schema at ${where}: boolean schemas are not supported.`)
  }
  if (!isObject(schema)) throw badRequest(PARAM, `JSON schema at ${where} must be an object.`)
  const out: Record<string, unknown> = {}
  for (const [rawKey, value] of Object.entries(schema)) {
    const key = rawKey === 'anyOf' ? 'oneOf' : rawKey
    const path = at ? `${at}.${rawKey}` : rawKey
    if (ANNOTATIONS.has(key)) {
      out[key] = value
      continue
    }
    if (!ENFORCED.has(key)) {
      throw badRequest(
        PARAM,
        `JSON schema keyword '${path}' cannot be enforced by this node's grammar; supported: ${[...ENFORCED].join(', ')}, anyOf.`,
      )
    }
    if (key === 'type') {
      const types = Array.isArray(value) ? value : [value]
      const bad = types.find((t) => typeof t !== 'string' || !TYPES.has(t))
      if (bad !== undefined || types.length === 0) {
        throw badRequest(PARAM, `JSON schema at ${path}: unknown type ${JSON.stringify(bad)}.`)
      }
      out[key] = value
    } else if (key === 'format') {
      if (typeof value !== 'string' || !FORMATS.has(value)) {
        throw badRequest(
          PARAM,
          `JSON schema at ${path}: format ${JSON.stringify(value)} cannot be enforced; supported: ${[...FORMATS].join(', ')}.`,
        )
      }
      out[key] = value
    } else if (key === '$ref') {
      if (typeof value !== 'string' || !value.startsWith('#/$defs/')) {
        throw badRequest(
          PARAM,
          `JSON schema at ${path}: only '#/$defs/…' references are supported.`,
        )
      }
      out[key] = value
    } else if (SCHEMA_MAPS.has(key)) {
      if (!isObject(value)) throw badRequest(PARAM, `JSON schema at ${path} must be an object.`)
      out[key] = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, grammarSchema(v, `${path}.${k}`)]),
      )
    } else if (SCHEMA_LISTS.has(key)) {
      if (!Array.isArray(value)) throw badRequest(PARAM, `JSON schema at ${path} must be an array.`)
      out[key] = value.map((v, i) => grammarSchema(v, `${path}[${i}]`))
    } else if (SCHEMA_ONE.has(key) && typeof value !== 'boolean') {
      out[key] = grammarSchema(value, path)
    } else {
      out[key] = value
    }
  }
  return out
}
