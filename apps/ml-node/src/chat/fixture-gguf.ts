/**
 * TEST FIXTURE, NOT A MODEL: builds a tiny llama-architecture GGUF with random weights around the
 * real vocabulary of `ggml-vocab-llama-spm.gguf`, a vocab-only file inside the llama.cpp source
 * bundle that node-llama-cpp ships in its npm package. It exercises the real llama.cpp path
 * (tokenizer, context, sampling, streaming) and produces gibberish. Never list it to users.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { mulberry32 } from '../classifiers/logistic.js'

const T = {
  U8: 0,
  I8: 1,
  U16: 2,
  I16: 3,
  U32: 4,
  I32: 5,
  F32: 6,
  BOOL: 7,
  STR: 8,
  ARR: 9,
  U64: 10,
  I64: 11,
  F64: 12,
}
const FIXED: Record<number, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
}

export interface FixtureShape {
  embd: number
  layers: number
  heads: number
  ff: number
  context: number
}

export const DEFAULT_SHAPE: FixtureShape = { embd: 64, layers: 2, heads: 4, ff: 128, context: 2048 }

/** Raw KV entries of a GGUF file, kept as bytes so they can be copied verbatim. */
function readKvs(buf: Buffer) {
  if (buf.toString('latin1', 0, 4) !== 'GGUF') throw new Error('not a GGUF file')
  const nKv = Number(buf.readBigUInt64LE(16))
  let off = 24
  const str = () => {
    const len = Number(buf.readBigUInt64LE(off))
    const s = buf.toString('utf8', off + 8, off + 8 + len)
    off += 8 + len
    return s
  }
  const skip = (type: number): void => {
    if (type === T.STR) {
      str()
      return
    }
    if (type === T.ARR) {
      const et = buf.readUInt32LE(off)
      const n = Number(buf.readBigUInt64LE(off + 4))
      off += 12
      if (et in FIXED) off += n * (FIXED[et] as number)
      else for (let i = 0; i < n; i++) skip(et)
      return
    }
    const size = FIXED[type]
    if (size === undefined) throw new Error(`unknown GGUF type ${type}`)
    off += size
  }
  const kvs: { key: string; raw: Buffer; count?: number }[] = []
  for (let i = 0; i < nKv; i++) {
    const start = off
    const key = str()
    const type = buf.readUInt32LE(off)
    off += 4
    const count = type === T.ARR ? Number(buf.readBigUInt64LE(off + 4)) : undefined
    skip(type)
    kvs.push({ key, raw: buf.subarray(start, off), ...(count !== undefined ? { count } : {}) })
  }
  return kvs
}

const u32 = (v: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(v)
  return b
}
const u64 = (v: number) => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(BigInt(v))
  return b
}
const gstr = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)])
const kvU32 = (k: string, v: number) => Buffer.concat([gstr(k), u32(T.U32), u32(v)])
const kvF32 = (k: string, v: number) => {
  const b = Buffer.alloc(4)
  b.writeFloatLE(v)
  return Buffer.concat([gstr(k), u32(T.F32), b])
}
const kvStr = (k: string, v: string) => Buffer.concat([gstr(k), u32(T.STR), gstr(v)])

/** The vocab-only GGUF from the llama.cpp git bundle inside node-llama-cpp's npm package. */
export function extractVocab(name = 'ggml-vocab-llama-spm.gguf'): Buffer {
  const require = createRequire(import.meta.url)
  let dir = dirname(require.resolve('node-llama-cpp'))
  while (!existsSync(join(dir, 'llama', 'gitRelease.bundle')) && dirname(dir) !== dir)
    dir = dirname(dir)
  const bundle = join(dir, 'llama', 'gitRelease.bundle')
  if (!existsSync(bundle)) throw new Error('no llama.cpp source bundle found in node-llama-cpp')
  const repo = mkdtempSync(join(tmpdir(), 'llama-bundle-'))
  try {
    execFileSync('git', ['init', '-q', '--bare', repo])
    const heads = execFileSync('git', ['-C', repo, 'bundle', 'unbundle', bundle], {
      encoding: 'utf8',
    })
    const commit = heads.trim().split(/\s+/)[0]
    if (!commit) throw new Error('empty llama.cpp bundle')
    return execFileSync('git', ['-C', repo, 'cat-file', 'blob', `${commit}:models/${name}`], {
      maxBuffer: 64 * 1024 * 1024,
    })
  } finally {
    rmSync(repo, { recursive: true, force: true })
  }
}

export function buildFixtureGguf(
  vocab: Buffer,
  shape: FixtureShape = DEFAULT_SHAPE,
  seed = 42,
): Buffer {
  const kvs = readKvs(vocab)
  const tokens = kvs.find((k) => k.key === 'tokenizer.ggml.tokens')?.count
  if (!tokens) throw new Error('vocab GGUF has no tokenizer.ggml.tokens')
  const { embd, layers, heads, ff, context } = shape
  const kept = kvs.filter((k) => k.key.startsWith('tokenizer.')).map((k) => k.raw)
  const meta = [
    kvStr('general.architecture', 'llama'),
    kvStr('general.name', 'synthstack test fixture (random weights, NOT a model)'),
    kvStr(
      'general.description',
      'Random weights for testing the llama.cpp path. Produces gibberish.',
    ),
    kvU32('general.alignment', 32),
    kvU32('general.file_type', 0),
    kvU32('llama.context_length', context),
    kvU32('llama.embedding_length', embd),
    kvU32('llama.block_count', layers),
    kvU32('llama.feed_forward_length', ff),
    kvU32('llama.attention.head_count', heads),
    kvU32('llama.attention.head_count_kv', heads),
    kvU32('llama.rope.dimension_count', embd / heads),
    kvU32('llama.vocab_size', tokens),
    kvF32('llama.attention.layer_norm_rms_epsilon', 1e-5),
    ...kept,
  ]
  const tensors: { name: string; dims: number[]; fill: 'rand' | 'ones' }[] = [
    { name: 'token_embd.weight', dims: [embd, tokens], fill: 'rand' },
    { name: 'output_norm.weight', dims: [embd], fill: 'ones' },
  ]
  for (let l = 0; l < layers; l++) {
    const p = `blk.${l}.`
    tensors.push(
      { name: `${p}attn_norm.weight`, dims: [embd], fill: 'ones' },
      { name: `${p}attn_q.weight`, dims: [embd, embd], fill: 'rand' },
      { name: `${p}attn_k.weight`, dims: [embd, embd], fill: 'rand' },
      { name: `${p}attn_v.weight`, dims: [embd, embd], fill: 'rand' },
      { name: `${p}attn_output.weight`, dims: [embd, embd], fill: 'rand' },
      { name: `${p}ffn_norm.weight`, dims: [embd], fill: 'ones' },
      { name: `${p}ffn_gate.weight`, dims: [embd, ff], fill: 'rand' },
      { name: `${p}ffn_up.weight`, dims: [embd, ff], fill: 'rand' },
      { name: `${p}ffn_down.weight`, dims: [ff, embd], fill: 'rand' },
    )
  }
  const align = (n: number) => Math.ceil(n / 32) * 32
  const infos: Buffer[] = []
  const datas: Buffer[] = []
  let offset = 0
  const rand = mulberry32(seed)
  for (const t of tensors) {
    const n = t.dims.reduce((a, b) => a * b, 1)
    infos.push(
      Buffer.concat([gstr(t.name), u32(t.dims.length), ...t.dims.map(u64), u32(0), u64(offset)]),
    )
    const data = Buffer.alloc(align(n * 4))
    for (let i = 0; i < n; i++)
      data.writeFloatLE(t.fill === 'ones' ? 1 : (rand() - 0.5) * 0.2, i * 4)
    datas.push(data)
    offset += data.length
  }
  const header = Buffer.concat([
    Buffer.from('GGUF', 'latin1'),
    u32(3),
    u64(tensors.length),
    u64(meta.length),
    ...meta,
    ...infos,
  ])
  const pad = Buffer.alloc(align(header.length) - header.length)
  return Buffer.concat([header, pad, ...datas])
}

/** Writes the fixture to `path` unless it is already there; returns the path. */
export function ensureFixtureGguf(path: string): string {
  if (existsSync(path)) return path
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, buildFixtureGguf(extractVocab()))
  // rename is atomic: concurrent builders cannot leave a half-written file.
  execFileSync('mv', [tmp, path])
  return path
}

export const readGgufKeys = (path: string) => readKvs(readFileSync(path)).map((k) => k.key)
