/**
 * TEST FIXTURES, NOT MODELS: tiny BERT-shaped ONNX networks with random weights, written in the
 * Hugging Face folder layout that transformers.js loads (config.json, tokenizer.json,
 * tokenizer_config.json, onnx/model.onnx, synthstack.json). They exercise the real ONNX Runtime
 * path (tokenizer, padding, session, pooling, batching) and their outputs mean nothing.
 * Never list them to users: the node only offers them when ML_NODE_TEST_ONNX_FIXTURES is set.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { mulberry32 } from '../classifiers/logistic.js'
import { ensureWhisperFixture } from './fixture-whisper.js'
import { F, floatInit, I64, int64Init, node, onnx, valueInfo } from './onnx-graph.js'

export const FIXTURE_EMBEDDER = 'fixture-bert-embed'
export const FIXTURE_RERANKER = 'fixture-bert-cross-encoder'
/** Bump when the fixture's files change, so stale copies are rebuilt. */
const FIXTURE_VERSION = 1

export interface BertFixtureShape {
  hidden: number
  maxPositions: number
}

export const DEFAULT_BERT_SHAPE: BertFixtureShape = { hidden: 32, maxPositions: 128 }

const WORDS = (
  'the a an of to and in is it that for on with as was be by at this are from or have not ' +
  'cat cats dog dogs sat mat rug kitten rested tax filing deadline quarterly paris france ' +
  'capital city berlin germany weather today sunny rain model models batch batching embed ' +
  'vector vectors search query document documents rank rerank score fast slow gpu cpu node ' +
  'onnx runtime test fixture random weights sentence number about what which where how ' +
  'who when why is are you we they he she i my your our'
).split(' ')

/** WordPiece vocabulary: specials, whole words, single characters and their `##` forms. */
export function fixtureVocab(): string[] {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789.,!?\'"-:;()$%&/'.split('')
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
  for (const w of [...new Set(WORDS), ...chars, ...chars.map((c) => `##${c}`)]) {
    if (!vocab.includes(w)) vocab.push(w)
  }
  return vocab
}

function tokenizerJson(vocab: string[]) {
  const id = (t: string) => vocab.indexOf(t)
  const special = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((content) => ({
    id: id(content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }))
  const tok = (t: string, typeId: number) => ({ SpecialToken: { id: t, type_id: typeId } })
  const seq = (s: 'A' | 'B', typeId: number) => ({ Sequence: { id: s, type_id: typeId } })
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0)],
      pair: [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0), seq('B', 1), tok('[SEP]', 1)],
      special_tokens: Object.fromEntries(
        ['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [id(t)], tokens: [t] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  }
}

const tokenizerConfig = (maxLength: number) => ({
  tokenizer_class: 'BertTokenizer',
  do_lower_case: true,
  model_max_length: maxLength,
  cls_token: '[CLS]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  unk_token: '[UNK]',
  mask_token: '[MASK]',
  clean_up_tokenization_spaces: true,
})

/** The random weights, from a seeded generator, so a test can recompute the network in JS. */
export interface BertFixtureWeights {
  vocab: number
  hidden: number
  word: Float32Array // [vocab, hidden]
  type: Float32Array // [2, hidden]
  pos: Float32Array // [maxPositions, hidden]
  w1: Float32Array // [hidden, hidden]
  b1: Float32Array // [hidden]
  w2: Float32Array // [hidden, hidden]
  wc: Float32Array // [hidden, 1]
  bc: Float32Array // [1]
}

export function fixtureWeights(
  vocab: number,
  shape: BertFixtureShape = DEFAULT_BERT_SHAPE,
  seed = 7,
): BertFixtureWeights {
  const rand = mulberry32(seed)
  const { hidden, maxPositions } = shape
  const fill = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale)
  return {
    vocab,
    hidden,
    word: fill(vocab * hidden, 1),
    type: fill(2 * hidden, 0.5),
    pos: fill(maxPositions * hidden, 0.5),
    w1: fill(hidden * hidden, 1 / Math.sqrt(hidden)),
    b1: fill(hidden, 0.1),
    w2: fill(hidden * hidden, 1 / Math.sqrt(hidden)),
    wc: fill(hidden, 1),
    bc: fill(1, 0.1),
  }
}

/**
 * One embedding layer (word + token type + position), a dense tanh layer, and a masked-mean
 * context mixed back into every token. Padding never changes a sequence's outputs. `head`
 * adds a cross-encoder head: masked mean → linear → logits [batch, 1].
 */
export function buildBertOnnx(w: BertFixtureWeights, head: 'none' | 'cross-encoder'): Uint8Array {
  const H = w.hidden
  const P = w.pos.length / H
  const nodes = [
    node('Gather', ['word_embeddings', 'input_ids'], ['we']),
    node('Gather', ['type_embeddings', 'token_type_ids'], ['te']),
    node('CumSum', ['attention_mask', 'axis_1'], ['cum']),
    node('Sub', ['cum', 'one_i64'], ['position_ids']),
    node('Gather', ['position_embeddings', 'position_ids'], ['pe']),
    node('Add', ['we', 'te'], ['e0']),
    node('Add', ['e0', 'pe'], ['e']),
    node('MatMul', ['e', 'w1'], ['m1']),
    node('Add', ['m1', 'b1'], ['a1']),
    node('Tanh', ['a1'], ['h1']),
    node('Cast', ['attention_mask'], ['mask_f'], { to: F }),
    node('Unsqueeze', ['mask_f', 'axes_2'], ['mask3']),
    node('Mul', ['h1', 'mask3'], ['h1m']),
    node('ReduceSum', ['h1m', 'axes_1'], ['ctx_sum'], { keepdims: 1 }),
    node('ReduceSum', ['mask3', 'axes_1'], ['ctx_n'], { keepdims: 1 }),
    node('Div', ['ctx_sum', 'ctx_n'], ['ctx']),
    node('MatMul', ['ctx', 'w2'], ['m2']),
    node('Add', ['h1', 'm2'], ['a2']),
    node('Tanh', ['a2'], ['last_hidden_state']),
  ]
  const outputs = [valueInfo('last_hidden_state', F, ['batch_size', 'sequence_length', H])]
  const init = [
    floatInit('word_embeddings', [w.vocab, H], w.word),
    floatInit('type_embeddings', [2, H], w.type),
    floatInit('position_embeddings', [P, H], w.pos),
    floatInit('w1', [H, H], w.w1),
    floatInit('b1', [H], w.b1),
    floatInit('w2', [H, H], w.w2),
    int64Init('axis_1', [], [1]),
    int64Init('one_i64', [], [1]),
    int64Init('axes_1', [1], [1]),
    int64Init('axes_2', [1], [2]),
  ]
  if (head === 'cross-encoder') {
    nodes.push(
      node('Mul', ['last_hidden_state', 'mask3'], ['hm']),
      node('ReduceSum', ['hm', 'axes_1'], ['pool_sum'], { keepdims: 0 }),
      node('ReduceSum', ['mask3', 'axes_1'], ['pool_n'], { keepdims: 0 }),
      node('Div', ['pool_sum', 'pool_n'], ['pooled']),
      node('MatMul', ['pooled', 'wc'], ['mc']),
      node('Add', ['mc', 'bc'], ['logits']),
    )
    init.push(floatInit('wc', [H, 1], w.wc), floatInit('bc', [1], w.bc))
    outputs.splice(0, 1, valueInfo('logits', F, ['batch_size', 1]))
  }
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'synthstack-ml-node fixture (random weights, NOT a model)',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: head === 'none' ? 'fixture_bert' : 'fixture_cross_encoder',
      node: nodes,
      initializer: init,
      input: ['input_ids', 'attention_mask', 'token_type_ids'].map((n) =>
        valueInfo(n, I64, ['batch_size', 'sequence_length']),
      ),
      output: outputs,
    },
  })
  return onnx.ModelProto.encode(model).finish()
}

/** The same network in plain JS, for tests: one sequence (no padding) → [seq, hidden]. */
export function referenceForward(w: BertFixtureWeights, ids: number[], typeIds: number[]) {
  const H = w.hidden
  const S = ids.length
  const h1: number[][] = []
  for (let s = 0; s < S; s++) {
    const e = new Array<number>(H)
    for (let k = 0; k < H; k++) {
      e[k] =
        (w.word[(ids[s] as number) * H + k] as number) +
        (w.type[(typeIds[s] as number) * H + k] as number) +
        (w.pos[s * H + k] as number)
    }
    const row = new Array<number>(H)
    for (let j = 0; j < H; j++) {
      let a = w.b1[j] as number
      for (let k = 0; k < H; k++) a += (e[k] as number) * (w.w1[k * H + j] as number)
      row[j] = Math.tanh(a)
    }
    h1.push(row)
  }
  const ctx = new Array<number>(H).fill(0)
  for (const row of h1) for (let k = 0; k < H; k++) (ctx[k] as number) += (row[k] as number) / S
  const m2 = new Array<number>(H).fill(0)
  for (let j = 0; j < H; j++) {
    for (let k = 0; k < H; k++)
      m2[j] = (m2[j] as number) + (ctx[k] as number) * (w.w2[k * H + j] as number)
  }
  const out = h1.map((row) => row.map((v, j) => Math.tanh(v + (m2[j] as number))))
  const pooled = new Array<number>(H).fill(0)
  for (const row of out) for (let k = 0; k < H; k++) (pooled[k] as number) += (row[k] as number) / S
  let logit = w.bc[0] as number
  for (let k = 0; k < H; k++) logit += (pooled[k] as number) * (w.wc[k] as number)
  return { lastHidden: out, pooled, logit }
}

function writeBertFolder(dir: string, kind: 'embedder' | 'cross-encoder', vocab: string[]) {
  const weights = fixtureWeights(vocab.length)
  mkdirSync(join(dir, 'onnx'), { recursive: true })
  const json = (name: string, v: unknown) =>
    writeFileSync(join(dir, name), `${JSON.stringify(v, null, 2)}\n`)
  const embedder = kind === 'embedder'
  json('config.json', {
    model_type: 'bert',
    architectures: [embedder ? 'BertModel' : 'BertForSequenceClassification'],
    hidden_size: weights.hidden,
    num_hidden_layers: 1,
    num_attention_heads: 1,
    intermediate_size: weights.hidden,
    vocab_size: vocab.length,
    max_position_embeddings: DEFAULT_BERT_SHAPE.maxPositions,
    type_vocab_size: 2,
    pad_token_id: 0,
    ...(embedder ? {} : { id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 } }),
  })
  json('tokenizer.json', tokenizerJson(vocab))
  json('tokenizer_config.json', tokenizerConfig(DEFAULT_BERT_SHAPE.maxPositions))
  json('synthstack.json', {
    fixture: true,
    fixture_version: FIXTURE_VERSION,
    family: embedder
      ? 'tiny BERT-shaped encoder, random weights (test fixture)'
      : 'tiny BERT-shaped cross-encoder, random weights (test fixture)',
    license: 'n/a (generated test fixture)',
    ...(embedder ? { pooling: 'mean', normalize: true } : { activation: 'sigmoid' }),
  })
  writeFileSync(
    join(dir, 'onnx', 'model.onnx'),
    buildBertOnnx(weights, embedder ? 'none' : 'cross-encoder'),
  )
}

/**
 * Build (or reuse, when current) the fixture tree under `root`, laid out like MODEL_DIR:
 * `embeddings/fixture-bert-embed`, `rerankers/fixture-bert-cross-encoder`,
 * `whisper/fixture-whisper-tiny` (see fixture-whisper.ts). Returns `root`.
 */
export function ensureOnnxFixtures(root: string): string {
  const vocab = fixtureVocab()
  const folders = [
    [join(root, 'embeddings', FIXTURE_EMBEDDER), 'embedder'],
    [join(root, 'rerankers', FIXTURE_RERANKER), 'cross-encoder'],
  ] as const
  for (const [dir, kind] of folders) {
    const meta = join(dir, 'synthstack.json')
    const current =
      existsSync(meta) &&
      existsSync(join(dir, 'onnx', 'model.onnx')) &&
      JSON.parse(readFileSync(meta, 'utf8')).fixture_version === FIXTURE_VERSION
    if (!current) writeBertFolder(dir, kind, vocab)
  }
  ensureWhisperFixture(root)
  return root
}
