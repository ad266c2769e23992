import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fieldPath, loadRegistryFile } from './registry-file.js'

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

function load(registry: unknown) {
  const dir = mkdtempSync(join(tmpdir(), 'mlnode-registry-'))
  writeFileSync(
    join(dir, 'registry.json'),
    typeof registry === 'string' ? registry : JSON.stringify(registry),
  )
  return { dir, load: () => loadRegistryFile({ MODEL_DIR: dir, MODEL_REGISTRY: undefined }) }
}

/** The one line a bad file stops start-up with, MODEL_DIR shortened. */
function refusal(registry: unknown) {
  const { dir, load: run } = load(registry)
  try {
    run()
  } catch (err) {
    return (err as Error).message.replace(`${dir}/`, '')
  }
  throw new Error('the file was accepted')
}

describe('registry.json schema', () => {
  it('is optional: no file, no registry; an empty object is a registry with nothing in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlnode-registry-'))
    expect(loadRegistryFile({ MODEL_DIR: dir, MODEL_REGISTRY: undefined })).toBeNull()
    expect(load({}).load()?.file).toEqual({ aliases: {}, defaults: {}, models: [], disabled: [] })
  })

  it('accepts the shipped example', () => {
    const example = JSON.parse(readFileSync(join(pkg, 'registry.example.json'), 'utf8'))
    const got = load(example).load()?.file
    expect(got?.aliases['text-embedding-3-small']).toBe('use-lite-512')
    expect(got?.models.map((m) => m.task).sort()).toEqual([
      'chat',
      'embeddings',
      'rerank',
      'transcription',
    ])
  })

  it.each([
    [
      { models: [{ id: 'x', task: 'embeddings', path: '../elsewhere' }] },
      "models[0].path: must stay inside MODEL_DIR (no '..')",
    ],
    [
      { models: [{ id: 'x', task: 'embeddings', path: 'a/../../b' }] },
      "models[0].path: must stay inside MODEL_DIR (no '..')",
    ],
    [
      { models: [{ id: 'x', task: 'rerank', path: '/srv/models/x' }] },
      'models[0].path: must be relative to MODEL_DIR, not absolute',
    ],
    [
      { models: [{ id: 'x', task: 'rerank', path: './' }] },
      'models[0].path: must name a folder or file',
    ],
    [
      { models: [{ id: 'x', task: 'chat', path: 'chat/x.bin' }] },
      'models[0].path: must name a .gguf file',
    ],
    [
      { models: [{ id: 'x', task: 'speech', path: 'x' }] },
      'models[0].task: must be one of embeddings, rerank, chat, transcription',
    ],
    [
      { models: [{ id: 'x', task: 'rerank', path: 'x', pooling: 'cls' }] },
      'models[0].pooling: unknown field',
    ],
    [{ models: [{ task: 'rerank', path: 'x' }] }, 'models[0].id: is required'],
    [
      { models: [{ id: 'x', task: 'embeddings', path: 'x', dimensions: -1 }] },
      'models[0].dimensions: ',
    ],
    [
      { models: [{ id: 'default', task: 'embeddings', path: 'x' }] },
      "models[0].id: 'default' is reserved",
    ],
    [{ aliases: { 'gpt 4': 'x' } }, 'aliases["gpt 4"]: must be 1-128 letters'],
    [
      { aliases: { clf_spam: 'x' } },
      "aliases.clf_spam: names starting with 'clf_' belong to trained classifiers",
    ],
    [
      { aliases: { 'rerank-english-v3.0': 3 } },
      'aliases["rerank-english-v3.0"]: Invalid input: expected string',
    ],
    [{ defaults: { speech: 'x' } }, 'defaults.speech: unknown field'],
    [{ disabled: 'bm25' }, 'disabled: Invalid input: expected array'],
    [{ modles: [] }, 'modles: unknown field'],
    [[], '(top level): Invalid input: expected object'],
    ['{"aliases": ', 'it is not valid JSON ('],
  ])('refuses %j naming the field', (registry, message) => {
    const got = refusal(registry)
    expect(got).toMatch(/^MODEL_REGISTRY \(registry\.json\) cannot be used: /)
    expect(got).toContain(message)
    expect(got.split('\n')).toHaveLength(1)
  })

  it('names fields the way a reader finds them in the file', () => {
    expect(fieldPath(['models', 2, 'path'])).toBe('models[2].path')
    expect(fieldPath(['aliases', 'text-embedding-3-small'])).toBe(
      'aliases["text-embedding-3-small"]',
    )
    expect(fieldPath([])).toBe('(top level)')
  })

  it('says when the file is a folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlnode-registry-'))
    mkdirSync(join(dir, 'registry.json'))
    expect(() => loadRegistryFile({ MODEL_DIR: dir, MODEL_REGISTRY: undefined })).toThrow(
      'cannot be used: it is a directory, not a file',
    )
  })
})
