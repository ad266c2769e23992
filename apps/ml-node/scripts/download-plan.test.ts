// Offline: the download plans, materialised with placeholder files, must be what the node's own
// discovery (src/onnx/discovery.ts) accepts. No network.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.js'
import { discoverOnnxModels } from '../src/onnx/discovery.js'
import { type DownloadPlan, planDownload, UsageError } from './download-plan.js'
import { CATALOG } from './model-catalog.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function modelDir() {
  const d = mkdtempSync(join(tmpdir(), 'plan-'))
  dirs.push(d)
  return d
}

function plan(args: string[], dir = '/models'): DownloadPlan {
  const p = planDownload(args, dir)
  if (p === 'list') throw new Error('expected a plan')
  return p
}

/** Writes what the plan would download (placeholders) plus synthstack.json at its destination. */
function materialise(p: DownloadPlan) {
  for (const f of p.files) {
    const out = p.kind === 'gguf' ? p.dest : join(p.dest, f.path)
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, f.path.endsWith('.json') ? '{}' : 'placeholder')
  }
  if (p.kind === 'onnx') writeFileSync(join(p.dest, 'synthstack.json'), JSON.stringify(p.meta))
}

const onnxNames = Object.entries(CATALOG)
  .filter(([, e]) => e.kind === 'onnx')
  .map(([n]) => n)

describe('ONNX catalog entries', () => {
  it.each(onnxNames)('%s lands where discovery finds it, complete', (name) => {
    const dir = modelDir()
    const p = plan([name], dir)
    materialise(p)
    const found = discoverOnnxModels(loadConfig({ MODEL_DIR: dir }))
    expect(found.map((m) => [m.id, m.task, m.problem, m.dtype])).toEqual([
      [name, p.task, undefined, 'fp32'],
    ])
    expect(found[0]?.meta).toEqual(p.kind === 'onnx' ? p.meta : null)
  })

  it('q8 fetches the _quantized graphs only and pins the dtype', () => {
    const dir = modelDir()
    const p = plan(['whisper-tiny.en', '--dtype', 'q8'], dir)
    expect(p.files.filter((f) => f.path.endsWith('.onnx')).map((f) => f.path)).toEqual([
      'onnx/encoder_model_quantized.onnx',
      'onnx/decoder_model_merged_quantized.onnx',
    ])
    materialise(p)
    const [m] = discoverOnnxModels(loadConfig({ MODEL_DIR: dir }))
    expect([m?.id, m?.task, m?.problem, m?.dtype, m?.meta.dtype]).toEqual([
      'whisper-tiny.en',
      'transcription',
      undefined,
      'q8',
      'q8',
    ])
  })

  it('builds Hugging Face resolve URLs for the repository and revision', () => {
    const p = plan(['bge-small-en-v1.5', '--revision', 'v1.0'])
    expect(p.dest).toBe(join('/models', 'embeddings', 'bge-small-en-v1.5'))
    expect(p.files.map((f) => f.url)).toContain(
      'https://huggingface.co/Xenova/bge-small-en-v1.5/resolve/v1.0/onnx/model.onnx',
    )
    expect(plan(['ms-marco-MiniLM-L-6-v2']).dest).toBe(
      join('/models', 'rerankers', 'ms-marco-MiniLM-L-6-v2'),
    )
  })
})

describe('any repository', () => {
  it('--repo with --task whisper goes to whisper/ under the given name', () => {
    const dir = modelDir()
    const p = plan(
      ['--repo', 'onnx-community/whisper-small', '--task', 'whisper', '--name', 'wsmall'],
      dir,
    )
    expect(p.kind === 'onnx' && p.meta).toEqual({ family: 'onnx-community/whisper-small' })
    materialise(p)
    const [m] = discoverOnnxModels(loadConfig({ MODEL_DIR: dir }))
    expect([m?.id, m?.task, m?.problem]).toEqual(['wsmall', 'transcription', undefined])
  })

  it('--url and --name make a chat GGUF', () => {
    const p = plan(['--url', 'https://example.org/m.gguf', '--name', 'my-model'])
    expect([p.kind, p.task, p.dest, p.files]).toEqual([
      'gguf',
      'chat',
      join('/models', 'chat', 'my-model.gguf'),
      [{ url: 'https://example.org/m.gguf', path: 'my-model.gguf' }],
    ])
  })

  it('a catalog GGUF goes to chat/', () => {
    const p = plan(['qwen2.5-0.5b-instruct', '--force'])
    expect([p.kind, p.dest, p.force]).toEqual([
      'gguf',
      join('/models', 'chat', 'qwen2.5-0.5b-instruct.gguf'),
      true,
    ])
  })

  it('--list', () => {
    expect(planDownload(['--list'], '/models')).toBe('list')
  })
})

describe('bad arguments name what is wrong', () => {
  it.each([
    [[], /name a model/],
    [['no-such-model'], /unknown model 'no-such-model'/],
    [['../etc'], /not a valid model id/],
    [['--url', 'https://x/y.gguf', '--name', 'a/b'], /not a valid model id/],
    [['bge-small-en-v1.5', '--dtype', 'int4'], /--dtype must be/],
    [['qwen2.5-0.5b-instruct', '--dtype', 'q8'], /--dtype applies to ONNX/],
    [['--repo', 'Xenova/gte-small', '--name', 'gte'], /--repo needs --task/],
    [['--repo', 'Xenova/gte-small', '--task', 'chat', '--name', 'gte'], /--repo needs --task/],
    [['--repo', 'not a repo', '--task', 'embeddings', '--name', 'x'], /--repo 'not a repo'/],
    [['--url', 'ftp://x', '--name', 'x'], /not an http\(s\) URL/],
    [['--url', 'https://x/y.gguf', '--repo', 'a/b', '--name', 'x'], /exclude each other/],
    [['bge-small-en-v1.5', '--revision', '../main'], /--revision/],
    [['bge-small-en-v1.5', '--task', 'embeddings'], /--task and --license go with --repo/],
    [['--name'], /--name needs a value/],
    [['bge-small-en-v1.5', '--frobnicate'], /unknown option --frobnicate/],
    [['a', 'b'], /one model name at a time/],
  ])('%j', (args, message) => {
    expect(() => planDownload(args, '/models')).toThrow(UsageError)
    expect(() => planDownload(args, '/models')).toThrow(message)
  })
})
