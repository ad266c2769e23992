import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../config.js'
import type { ApiError } from '../http/errors.js'
import { BUILT_IN_MODELS } from '../services.js'
import { ModelCatalog } from './catalog.js'
import { card } from './registry.js'

const json = (path: string, v: unknown) => writeFileSync(path, JSON.stringify(v))

/** A folder that passes discovery's file checks (nothing here loads it). */
function onnxFolder(dir: string, meta?: Record<string, unknown>) {
  mkdirSync(join(dir, 'onnx'), { recursive: true })
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    json(join(dir, f), { model_type: 'bert', hidden_size: 8 })
  }
  writeFileSync(join(dir, 'onnx', 'model.onnx'), 'x')
  if (meta) json(join(dir, 'synthstack.json'), meta)
}

/** MODEL_DIR with a discovered embedder, a discovered GGUF, and weights outside the task folders. */
function modelDir(registry?: unknown) {
  const dir = mkdtempSync(join(tmpdir(), 'mlnode-catalog-'))
  onnxFolder(join(dir, 'embeddings', 'bge-small'), { license: 'MIT', family: 'bge' })
  onnxFolder(join(dir, 'weights', 'e5-base'), { family: 'e5 (synthstack.json)' })
  mkdirSync(join(dir, 'chat'))
  writeFileSync(join(dir, 'chat', 'qwen.gguf'), 'GGUF')
  if (registry !== undefined) json(join(dir, 'registry.json'), registry)
  return dir
}

const catalog = (dir: string, env: Record<string, string> = {}) =>
  new ModelCatalog(loadConfig({ MODEL_DIR: dir, ...env }), BUILT_IN_MODELS)

/** The start-up error for a registry file, as the CLI prints it. */
function refusal(registry: unknown, prepare?: (dir: string) => void) {
  const dir = modelDir(registry)
  prepare?.(dir)
  try {
    catalog(dir)
  } catch (err) {
    return (err as Error).message.replace(dir, 'MODEL_DIR')
  }
  throw new Error('the catalog accepted the file')
}

const caught = (f: () => unknown) => {
  try {
    f()
  } catch (err) {
    return err as ApiError
  }
  throw new Error('no error')
}

describe('without a registry file', () => {
  it('serves built-ins and discovered weights under their own names', () => {
    const c = catalog(modelDir())
    expect(c.registryPath).toBeNull()
    expect(c.resolve('embeddings', 'bge-small')).toBe('bge-small')
    expect(c.resolve('chat', 'qwen')).toBe('qwen')
    expect(c.onnx.map((m) => m.id)).toEqual(['bge-small'])
    // weights/ is not a task folder: nothing finds it without an entry.
    expect(caught(() => c.resolve('embeddings', 'e5-base')).status).toBe(404)
  })

  it('asks for `model` when a route has no default, and lets rerank pick its own', () => {
    const c = catalog(modelDir())
    const missing = caught(() => c.resolve('embeddings', undefined))
    expect([missing.status, missing.param, missing.code]).toEqual([
      400,
      'model',
      'missing_required_parameter',
    ])
    expect(missing.message).toContain('defaults.embeddings')
    expect(caught(() => c.resolve('chat', 'default')).code).toBe('no_default_model')
    expect(c.resolve('rerank', 'default', () => 'bm25')).toBe('bm25')
    expect(c.resolve('rerank', undefined, () => 'bm25')).toBe('bm25')
  })

  it('answers a name of another task as unknown on this route', () => {
    const err = caught(() => catalog(modelDir()).resolve('embeddings', 'bm25'))
    expect(err.code).toBe('model_not_found')
    expect(err.message).toContain('bge-small, use-lite-512')
  })
})

describe('a registry file', () => {
  const registry = {
    aliases: {
      'text-embedding-3-small': 'bge-small',
      'gpt-4o-mini': 'qwen2.5',
      'rerank-english-v3.0': 'bm25',
      'openai/e5': 'e5',
    },
    defaults: { embeddings: 'text-embedding-3-small', chat: 'qwen2.5', rerank: 'bm25' },
    models: [
      { id: 'e5', task: 'embeddings', path: 'weights/e5-base', license: 'MIT', prefix: 'query: ' },
      { id: 'qwen2.5', task: 'chat', path: 'chat/qwen.gguf', license: 'Apache-2.0' },
    ],
    disabled: ['use-lite-512', 'pocketsphinx-en-us'],
  }

  it('resolves aliases and defaults to model ids, per route', () => {
    const c = catalog(modelDir(registry))
    expect(c.resolve('embeddings', 'text-embedding-3-small')).toBe('bge-small')
    expect(c.resolve('embeddings', 'openai/e5')).toBe('e5')
    expect(c.resolve('embeddings', undefined)).toBe('bge-small')
    expect(c.resolve('embeddings', 'default')).toBe('bge-small')
    expect(c.resolve('chat', 'gpt-4o-mini')).toBe('qwen2.5')
    expect(c.resolve('chat', undefined)).toBe('qwen2.5')
    // A registry default wins over the route's own choice.
    expect(c.resolve('rerank', 'default', () => 'some-cross-encoder')).toBe('bm25')
    expect(caught(() => c.resolve('rerank', 'text-embedding-3-small')).status).toBe(404)
  })

  it('serves an explicit entry under its id, its fields over synthstack.json', () => {
    const c = catalog(modelDir(registry))
    const e5 = c.onnx.find((m) => m.id === 'e5')
    expect(e5).toMatchObject({
      task: 'embeddings',
      source: 'MODEL_DIR/weights/e5-base',
      meta: { license: 'MIT', family: 'e5 (synthstack.json)', prefix: 'query: ' },
    })
    expect(e5?.problem).toBeUndefined()
    // The entry claims chat/qwen.gguf: discovery no longer offers it as `qwen`.
    expect(c.gguf.map((m) => [m.id, m.source, m.license])).toEqual([
      ['qwen2.5', 'MODEL_DIR/chat/qwen.gguf', 'Apache-2.0'],
    ])
    expect(caught(() => c.resolve('chat', 'qwen')).status).toBe(404)
  })

  it('lists an entry whose folder is missing as a problem, not a start-up failure', () => {
    const c = catalog(
      modelDir({ models: [{ id: 'later', task: 'rerank', path: 'rerankers/not-yet' }] }),
    )
    expect(c.onnx.find((m) => m.id === 'later')?.problem).toBe('the folder does not exist')
  })

  it('disables models (and what runs on them), and says so in the 404', () => {
    const c = catalog(modelDir(registry))
    expect(c.isEnabled('use-lite-512')).toBe(false)
    expect(c.isEnabled('use-lite-512-cosine')).toBe(false)
    expect(c.isEnabled('bm25')).toBe(true)
    const err = caught(() => c.resolve('embeddings', 'use-lite-512'))
    expect(err.status).toBe(404)
    expect(err.message).toContain('disabled')
    expect(err.message).toContain('Known models for this route: bge-small, e5.')
    expect(err.message).toContain('Aliases: text-embedding-3-small → bge-small, openai/e5 → e5')
  })

  it('lists each alias as its own entry with its target card, and hides disabled cards', () => {
    const c = catalog(modelDir(registry))
    const bm25 = card({
      id: 'bm25',
      task: 'rerank',
      kind: 'lexical',
      family: 'BM25',
      runtime: 'TypeScript',
      source: 'built in',
      license: 'n/a',
      status: 'ready',
    })
    const use = { ...bm25, id: 'use-lite-512', task: 'embeddings' as const }
    const listed = c.withAliases([bm25, use])
    expect(listed.map((m) => [m.id, m.alias_of])).toEqual([
      ['bm25', undefined],
      ['rerank-english-v3.0', 'bm25'],
    ])
    expect(listed[1]).toMatchObject({ task: 'rerank', kind: 'lexical', status: 'ready' })
  })

  it('reads MODEL_REGISTRY instead of MODEL_DIR/registry.json', () => {
    const dir = modelDir()
    const file = join(dir, 'elsewhere.json')
    json(file, { aliases: { small: 'bge-small' } })
    const c = catalog(dir, { MODEL_REGISTRY: file })
    expect(c.registryPath).toBe(file)
    expect(c.resolve('embeddings', 'small')).toBe('bge-small')
    expect(c.summary()).toContain('small→bge-small')
  })
})

describe('a registry file that cannot be served stops start-up naming the field', () => {
  const entry = { id: 'e5', task: 'embeddings', path: 'weights/e5-base' }
  it.each([
    [
      'an alias to an unknown model',
      { aliases: { 'text-embedding-3-small': 'nope' } },
      `aliases["text-embedding-3-small"]: 'nope' is not a model on this node (known: bge-small, bm25, pocketsphinx-en-us, qwen, use-lite-512, use-lite-512-cosine)`,
    ],
    [
      'an alias that hides a real model id',
      { aliases: { bm25: 'bge-small' } },
      "aliases.bm25: 'bm25' is the id of a model on this node; an alias may not hide it",
    ],
    [
      'an alias to an alias',
      { aliases: { a: 'bge-small', b: 'a' } },
      "aliases.b: 'a' is an alias itself",
    ],
    [
      'an alias to a disabled model',
      { aliases: { small: 'use-lite-512' }, disabled: ['use-lite-512'] },
      "aliases.small: 'use-lite-512' is disabled",
    ],
    [
      'an alias to a model no request names',
      { aliases: { sentiment: 'vader-lexicon' } },
      "aliases.sentiment: 'vader-lexicon' (sentiment) is part of /v1/analyze",
    ],
    [
      'an alias to a trained classifier',
      { aliases: { spam: 'clf_0123' } },
      "aliases.spam: 'clf_0123' is not a model on this node (trained classifiers cannot be named here)",
    ],
    [
      'a default to an unknown model',
      { defaults: { chat: 'gpt-4o-mini' } },
      "defaults.chat: 'gpt-4o-mini' is not a model on this node",
    ],
    [
      'a default of the wrong task',
      { defaults: { embeddings: 'bm25' } },
      "defaults.embeddings: 'bm25' is a rerank model, not embeddings",
    ],
    [
      'a default to a disabled model',
      { defaults: { transcription: 'pocketsphinx-en-us' }, disabled: ['pocketsphinx-en-us'] },
      "defaults.transcription: 'pocketsphinx-en-us' is disabled",
    ],
    [
      'two entries with one id',
      { models: [entry, { ...entry, path: 'embeddings/bge-small' }] },
      "models[1].id: 'e5' is also the id of models[0]",
    ],
    [
      'two entries for one path',
      { models: [entry, { ...entry, id: 'e5-again', path: 'weights/./e5-base/' }] },
      "models[1].path: 'weights/./e5-base/' is also the path of models[0]",
    ],
    [
      'an entry with a built-in id',
      { models: [{ ...entry, id: 'use-lite-512' }] },
      "models[0].id: 'use-lite-512' is already the id of a built-in model",
    ],
    [
      'an entry with the id of a discovered folder',
      { models: [{ ...entry, id: 'bge-small' }] },
      "models[0].id: 'bge-small' is already the id of MODEL_DIR/embeddings/bge-small; choose another id, or give that path an entry",
    ],
    [
      'an entry with the id of a discovered GGUF',
      { models: [{ ...entry, id: 'qwen' }] },
      "models[0].id: 'qwen' is already the id of MODEL_DIR/chat/qwen.gguf",
    ],
    [
      'disabling an unknown model',
      { disabled: ['bm25', 'gpt-4'] },
      "disabled[1]: 'gpt-4' is not a model on this node",
    ],
    [
      'disabling an /v1/analyze model',
      { disabled: ['fasttext-lid-176'] },
      "disabled[0]: 'fasttext-lid-176' (language-id) is part of /v1/analyze, which has no model choice; it cannot be disabled",
    ],
  ])('%s', (_, registry, message) => {
    const got = refusal(registry)
    expect(got).toContain('MODEL_REGISTRY (MODEL_DIR/registry.json) cannot be used: ')
    expect(got).toContain(message)
    expect(got.split('\n')).toHaveLength(1)
  })

  it('refuses to disable the embedder that trained classifiers run on, naming them', () => {
    const got = refusal({ disabled: ['pocketsphinx-en-us', 'use-lite-512'] }, (dir) => {
      mkdirSync(join(dir, 'classifiers'))
      const rec = (id: string, status: string, model: string) =>
        json(join(dir, 'classifiers', `${id}.json`), {
          id,
          status,
          features: { embedding_model: model },
        })
      rec('clf_a', 'succeeded', 'use-lite-512')
      rec('clf_b', 'succeeded', 'bge-small')
      rec('clf_c', 'failed', 'use-lite-512')
      rec('clf_d', 'succeeded', 'use-lite-512')
    })
    expect(got).toContain(
      "disabled[1]: 'use-lite-512' is the embedding model of the trained classifiers clf_a, clf_d (MODEL_DIR/classifiers), which would stop working",
    )
    // The same node without those classifiers may disable it.
    expect(catalog(modelDir({ disabled: ['use-lite-512'] })).isEnabled('use-lite-512')).toBe(false)
  })

  it('refuses an entry for generated fixture weights unless fixtures are enabled', () => {
    const registry = { models: [{ id: 'mine', task: 'rerank', path: 'copied' }] }
    const prepare = (dir: string) => onnxFolder(join(dir, 'copied'), { fixture: true })
    expect(refusal(registry, prepare)).toContain(
      'models[0].path: MODEL_DIR/copied holds generated test fixture weights (synthstack.json says "fixture": true), served only with ML_NODE_TEST_ONNX_FIXTURES',
    )
    const dir = modelDir(registry)
    prepare(dir)
    const c = catalog(dir, { ML_NODE_TEST_ONNX_FIXTURES: mkdtempSync(join(tmpdir(), 'fx-')) })
    expect(c.onnx.find((m) => m.id === 'mine')?.fixture).toBe(true)
  })

  it('names MODEL_REGISTRY when it points at no file, and says why a file is not JSON', () => {
    const dir = modelDir()
    expect(() => catalog(dir, { MODEL_REGISTRY: join(dir, 'nope.json') })).toThrow(
      `MODEL_REGISTRY (${join(dir, 'nope.json')}) cannot be used: the file does not exist`,
    )
    writeFileSync(join(dir, 'registry.json'), '{"aliases": {')
    expect(() => catalog(dir)).toThrow(/registry\.json\) cannot be used: it is not valid JSON \(/)
  })
})

describe('registry.example.json', () => {
  it('starts a node on an empty MODEL_DIR: its weights are listed as missing, not refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlnode-catalog-'))
    const example = join(
      dirname(fileURLToPath(import.meta.url)),
      '..',
      '..',
      'registry.example.json',
    )
    const c = catalog(dir, { MODEL_REGISTRY: example })
    expect(c.resolve('embeddings', 'text-embedding-3-small')).toBe('use-lite-512')
    expect(c.resolve('rerank', undefined)).toBe('bge-reranker-base')
    expect(c.resolve('chat', 'default')).toBe('qwen2.5-0.5b-instruct')
    expect(c.isEnabled('pocketsphinx-en-us')).toBe(false)
    expect(c.onnx.map((m) => [m.id, m.problem])).toEqual([
      ['e5-small-v2', 'the folder does not exist'],
      ['bge-reranker-base', 'the folder does not exist'],
      ['whisper-base', 'the folder does not exist'],
    ])
  })
})
