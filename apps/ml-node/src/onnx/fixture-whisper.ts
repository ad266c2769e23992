/**
 * TEST FIXTURE, NOT A MODEL: a tiny Whisper-shaped encoder-decoder with random weights, in the
 * Hugging Face / optimum layout that transformers.js' `automatic-speech-recognition` pipeline
 * loads (config.json, generation_config.json, preprocessor_config.json, tokenizer.json,
 * tokenizer_config.json, onnx/encoder_model.onnx, onnx/decoder_model_merged.onnx, synthstack.json).
 * It exercises the real path (log-mel features, encoder session, merged decoder with
 * `use_cache_branch` and a KV cache, Whisper's logits processors, timestamp decoding) and its
 * transcripts mean nothing. Served only with ML_NODE_TEST_ONNX_FIXTURES.
 *
 * Encoder: input_features [b, 80, 3000] → Conv1d(k3, s2) → tanh → + positions → tanh →
 * last_hidden_state [b, 1500, d].
 * Decoder (merged): token + position embeddings → causal self-attention over past + new keys →
 * cross-attention over the encoder keys (computed from encoder_hidden_states when
 * use_cache_branch is false, passed through from the past when true, like optimum's `If`) → tanh
 * → logits. Fixed biases make it Whisper-like enough to finish: after <|transcribe|> it opens
 * with <|0.00|> (timestamp mode), it prefers whole-word tokens, at position TEXT_END it emits
 * <|1.00|>, and after <|1.00|> it emits <|endoftext|>.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { mulberry32 } from '../classifiers/logistic.js'
import { BOOL, F, floatInit, I64, ifNode, int64Init, node, onnx, valueInfo } from './onnx-graph.js'

export const FIXTURE_WHISPER = 'fixture-whisper-tiny'
/** Bump when the fixture's files change, so stale copies are rebuilt. */
const WHISPER_FIXTURE_VERSION = 1

const D_MODEL = 16
const HEADS = 2
const HEAD_DIM = D_MODEL / HEADS
const MEL_BINS = 80
const FRAMES = 3000
const SOURCE_POSITIONS = 1500
const TARGET_POSITIONS = 448
/** Decoder position whose logits call for the closing timestamp; five text tokens come before. */
export const TEXT_END = 8
/** Seconds of the closing timestamp token. */
export const CLOSING_TIMESTAMP = 1
const BIG = 60
/** Sharper cross-attention and a stronger cross-attention output than a plain random init, so
 * the transcript depends on the audio rather than on the prompt alone. */
const CROSS_SHARPNESS = 4
const CROSS_GAIN = 4
const ENC_POS_SCALE = 0.1

/** A few of Whisper's languages, in Whisper's own order. */
export const FIXTURE_LANGUAGES = ['en', 'zh', 'de', 'es', 'ru', 'fr'] as const
const WORDS = (
  'the cat sat on a mat hello world this is speech test audio model fixture random weights ' +
  'whisper book table for two people tonight would like to i'
).split(' ')

/** GPT-2's byte → printable character table, in vocabulary order. */
function byteLevelAlphabet(): string[] {
  const bs: number[] = []
  for (const [a, b] of [
    [33, 126],
    [161, 172],
    [174, 255],
  ] as const) {
    for (let i = a; i <= b; i++) bs.push(i)
  }
  const cs = [...bs]
  let n = 0
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b)
      cs.push(256 + n++)
    }
  }
  return cs.map((c) => String.fromCodePoint(c))
}

export interface WhisperVocab {
  tokens: string[]
  merges: [string, string][]
  /** Tokens 0..textCount-1 are byte-level BPE text; <|endoftext|> is textCount. */
  textCount: number
  wordIds: number[]
  eos: number
  sot: number
  lang: Record<string, number>
  translate: number
  transcribe: number
  startoflm: number
  startofprev: number
  nospeech: number
  notimestamps: number
  /** <|0.00|>; <|t|> is tsBegin + t / 0.02 up to <|30.00|>. */
  tsBegin: number
}

/**
 * Whisper's token layout, shrunk: 256 byte tokens and a few merged words, then <|endoftext|>,
 * <|startoftranscript|>, language tokens, task tokens, <|notimestamps|> and 1501 timestamps.
 */
export function whisperFixtureVocab(): WhisperVocab {
  const tokens = byteLevelAlphabet()
  const merges: [string, string][] = []
  const wordIds: number[] = []
  for (const word of WORDS) {
    // Left-to-right merges: Ġ c → Ġc, Ġc a → Ġca, Ġca t → Ġcat.
    let cur = 'Ġ'
    for (const ch of word) {
      const next = cur + ch
      if (!merges.some(([a, b]) => a === cur && b === ch)) merges.push([cur, ch])
      if (!tokens.includes(next)) tokens.push(next)
      cur = next
    }
    wordIds.push(tokens.indexOf(cur))
  }
  const textCount = tokens.length
  const add = (t: string) => tokens.push(t) - 1
  const eos = add('<|endoftext|>')
  const sot = add('<|startoftranscript|>')
  const lang = Object.fromEntries(FIXTURE_LANGUAGES.map((l) => [l, add(`<|${l}|>`)]))
  const translate = add('<|translate|>')
  const transcribe = add('<|transcribe|>')
  const startoflm = add('<|startoflm|>')
  const startofprev = add('<|startofprev|>')
  const nospeech = add('<|nospeech|>')
  const notimestamps = add('<|notimestamps|>')
  const tsBegin = tokens.length
  for (let i = 0; i <= 1500; i++) tokens.push(`<|${(i * 0.02).toFixed(2)}|>`)
  return {
    tokens,
    merges,
    textCount,
    wordIds,
    eos,
    sot,
    lang,
    translate,
    transcribe,
    startoflm,
    startofprev,
    nospeech,
    notimestamps,
    tsBegin,
  }
}

function tokenizerJson(v: WhisperVocab) {
  const added = v.tokens.slice(v.eos).map((content, i) => ({
    id: v.eos + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    // Timestamps are not special: the ASR decoder reads them as times.
    special: v.eos + i < v.tsBegin,
  }))
  const tok = (id: string) => ({ SpecialToken: { id, type_id: 0 } })
  const seq = (id: 'A' | 'B') => ({ Sequence: { id, type_id: 0 } })
  const specials = ['<|startoftranscript|>', '<|notimestamps|>', '<|endoftext|>']
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: 'ByteLevel',
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        tok(specials[0] as string),
        tok(specials[1] as string),
        seq('A'),
        tok('<|endoftext|>'),
      ],
      pair: [
        tok(specials[0] as string),
        tok(specials[1] as string),
        seq('A'),
        seq('B'),
        tok('<|endoftext|>'),
      ],
      special_tokens: Object.fromEntries(
        specials.map((t) => [t, { id: t, ids: [v.tokens.indexOf(t)], tokens: [t] }]),
      ),
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(v.tokens.slice(0, v.eos + 1).map((t, i) => [t, i])),
      merges: v.merges.map(([a, b]) => `${a} ${b}`),
    },
  }
}

/** The random weights, from a seeded generator. */
export interface WhisperFixtureWeights {
  vocab: number
  convW: Float32Array // [d, 80, 3]
  convB: Float32Array // [d]
  encPos: Float32Array // [1500, d]
  tok: Float32Array // [vocab, d]
  pos: Float32Array // [448, d]
  attn: Record<'wq' | 'wk' | 'wv' | 'wo' | 'cq' | 'ck' | 'cv' | 'co' | 'wp', Float32Array> // [d, d]
  out: Float32Array // [d, vocab]
}

export function whisperFixtureWeights(vocab: number, seed = 11): WhisperFixtureWeights {
  const rand = mulberry32(seed)
  const fill = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale)
  const sq = () => fill(D_MODEL * D_MODEL, 1 / Math.sqrt(D_MODEL))
  return {
    vocab,
    convW: fill(D_MODEL * MEL_BINS * 3, 1 / Math.sqrt(MEL_BINS * 3)),
    convB: fill(D_MODEL, 0.1),
    encPos: fill(SOURCE_POSITIONS * D_MODEL, ENC_POS_SCALE),
    tok: fill(vocab * D_MODEL, 1),
    pos: fill(TARGET_POSITIONS * D_MODEL, 0.5),
    attn: {
      wq: sq(),
      wk: sq(),
      wv: sq(),
      wo: sq(),
      cq: sq(),
      ck: sq(),
      cv: sq(),
      co: sq().map((x) => x * CROSS_GAIN),
      wp: sq().map((x) => x * CROSS_GAIN),
    },
    out: fill(D_MODEL * vocab, 1),
  }
}

const fixtureModel = (name: string, graph: Parameters<typeof onnx.GraphProto.create>[0]) =>
  onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      producerName: 'synthstack-ml-node fixture (random weights, NOT a model)',
      opsetImport: [{ domain: '', version: 13 }],
      graph: { ...graph, name },
    }),
  ).finish()

export function buildWhisperEncoderOnnx(w: WhisperFixtureWeights): Uint8Array {
  return fixtureModel('fixture_whisper_encoder', {
    node: [
      node('Conv', ['input_features', 'conv_w', 'conv_b'], ['conv'], {
        kernel_shape: [3],
        strides: [2],
        pads: [1, 1],
      }),
      node('Tanh', ['conv'], ['conv_act']),
      node('Transpose', ['conv_act'], ['frames'], { perm: [0, 2, 1] }),
      node('Add', ['frames', 'enc_pos'], ['frames_pos']),
      node('Tanh', ['frames_pos'], ['last_hidden_state']),
    ],
    initializer: [
      floatInit('conv_w', [D_MODEL, MEL_BINS, 3], w.convW),
      floatInit('conv_b', [D_MODEL], w.convB),
      floatInit('enc_pos', [SOURCE_POSITIONS, D_MODEL], w.encPos),
    ],
    input: [valueInfo('input_features', F, ['batch_size', MEL_BINS, FRAMES])],
    output: [valueInfo('last_hidden_state', F, ['batch_size', SOURCE_POSITIONS, D_MODEL])],
  })
}

/** [b, s, d] → [b, heads, s, head_dim] after a projection. */
const toHeads = (src: string, weight: string, out: string) => [
  node('MatMul', [src, weight], [`${out}_proj`]),
  node('Reshape', [`${out}_proj`, 'heads_shape'], [`${out}_split`]),
  node('Transpose', [`${out}_split`], [out], { perm: [0, 2, 1, 3] }),
]

/** Scaled dot-product attention, heads merged back and projected: → [b, s, d]. */
const attention = (
  q: string,
  k: string,
  v: string,
  wo: string,
  out: string,
  scale: string,
  mask?: string,
) => [
  node('Transpose', [k], [`${out}_kt`], { perm: [0, 1, 3, 2] }),
  node('MatMul', [q, `${out}_kt`], [`${out}_raw`]),
  node('Mul', [`${out}_raw`, scale], [mask ? `${out}_scaled` : `${out}_scores`]),
  ...(mask ? [node('Add', [`${out}_scaled`, mask], [`${out}_scores`])] : []),
  node('Softmax', [`${out}_scores`], [`${out}_probs`], { axis: -1 }),
  node('MatMul', [`${out}_probs`, v], [`${out}_ctx`]),
  node('Transpose', [`${out}_ctx`], [`${out}_ctx_t`], { perm: [0, 2, 1, 3] }),
  node('Reshape', [`${out}_ctx_t`, 'merge_shape'], [`${out}_merged`]),
  node('MatMul', [`${out}_merged`, wo], [out]),
]

/** The fixed logit biases that make generation Whisper-like and short (see the file comment). */
function logitBiases(v: WhisperVocab) {
  const V = v.tokens.length
  const bias = new Float32Array(V).fill(-6)
  for (const id of v.wordIds) bias[id] = 3
  bias.fill(-BIG / 2, v.eos)
  const ruleIn = new Float32Array(V * 2)
  const ruleOut = new Float32Array(2 * V)
  const closing = v.tsBegin + CLOSING_TIMESTAMP / 0.02
  ruleIn[v.transcribe * 2] = 1
  ruleOut[v.tsBegin] = BIG
  ruleIn[closing * 2 + 1] = 1
  // Twice as strong as the ramp, which still favours <|1.00|> at that position.
  ruleOut[V + v.eos] = 2 * BIG
  const ramp = Float32Array.from({ length: TARGET_POSITIONS }, (_, p) => (p >= TEXT_END ? BIG : 0))
  const rampOut = new Float32Array(V)
  rampOut[closing] = 1
  return { bias, ruleIn, ruleOut, ramp, rampOut }
}

const PAST = 'past_key_values.0'
const PRESENT = 'present.0'

export function buildWhisperDecoderOnnx(w: WhisperFixtureWeights, v: WhisperVocab): Uint8Array {
  const V = w.vocab
  const b = logitBiases(v)
  const encoderKv = (prefix: string) => ({
    node: [
      ...toHeads('encoder_hidden_states', 'ck', `${prefix}_k`),
      ...toHeads('encoder_hidden_states', 'cv', `${prefix}_v`),
    ],
    output: [valueInfo(`${prefix}_k`, F, null), valueInfo(`${prefix}_v`, F, null)],
  })
  const kvDims = (len: string) => ['batch_size', HEADS, len, HEAD_DIM]
  return fixtureModel('fixture_whisper_decoder_merged', {
    node: [
      // Positions: past length + 0..s-1; keys 0..past+s-1.
      node('Shape', [`${PAST}.decoder.key`], ['past_shape']),
      node('Gather', ['past_shape', 'idx_2'], ['past_len'], { axis: 0 }),
      node('Shape', ['input_ids'], ['ids_shape']),
      node('Gather', ['ids_shape', 'idx_1'], ['seq_len'], { axis: 0 }),
      node('Add', ['past_len', 'seq_len'], ['total_len']),
      node('Range', ['past_len', 'total_len', 'one_i64'], ['q_pos']),
      node('Range', ['zero_i64', 'total_len', 'one_i64'], ['k_pos']),
      node('Unsqueeze', ['q_pos', 'axes_1'], ['q_pos_col']),
      node('Greater', ['k_pos', 'q_pos_col'], ['future']),
      node('Where', ['future', 'neg_big', 'zero_f'], ['causal_mask']),
      node('Gather', ['tok_emb', 'input_ids'], ['tok']),
      node('Gather', ['pos_emb', 'q_pos'], ['pos']),
      node('Add', ['tok', 'pos'], ['x0']),
      // Self-attention with the KV cache.
      ...toHeads('x0', 'wq', 'q'),
      ...toHeads('x0', 'wk', 'k_new'),
      ...toHeads('x0', 'wv', 'v_new'),
      node('Concat', [`${PAST}.decoder.key`, 'k_new'], [`${PRESENT}.decoder.key`], { axis: 2 }),
      node('Concat', [`${PAST}.decoder.value`, 'v_new'], [`${PRESENT}.decoder.value`], {
        axis: 2,
      }),
      ...attention(
        'q',
        `${PRESENT}.decoder.key`,
        `${PRESENT}.decoder.value`,
        'wo',
        'sa',
        'attn_scale',
        'causal_mask',
      ),
      node('Add', ['x0', 'sa'], ['x1']),
      // Cross-attention: encoder keys from the past when cached, else from the encoder output.
      ifNode(
        'use_cache_branch',
        [`${PRESENT}.encoder.key`, `${PRESENT}.encoder.value`],
        {
          name: 'cached_encoder_kv',
          node: [
            node('Identity', [`${PAST}.encoder.key`], ['cached_k']),
            node('Identity', [`${PAST}.encoder.value`], ['cached_v']),
          ],
          output: [valueInfo('cached_k', F, null), valueInfo('cached_v', F, null)],
        },
        { name: 'computed_encoder_kv', ...encoderKv('computed') },
      ),
      ...toHeads('x1', 'cq', 'q2'),
      ...attention(
        'q2',
        `${PRESENT}.encoder.key`,
        `${PRESENT}.encoder.value`,
        'co',
        'ca',
        'cross_scale',
      ),
      // Max-pooled cached encoder values: padding frames dominate attention, peaks do not.
      node('ReduceMax', [`${PRESENT}.encoder.value`], ['enc_peak'], { axes: [2], keepdims: 1 }),
      node('Transpose', ['enc_peak'], ['enc_peak_t'], { perm: [0, 2, 1, 3] }),
      node('Reshape', ['enc_peak_t', 'merge_shape'], ['enc_peak_m']),
      node('MatMul', ['enc_peak_m', 'wp'], ['peak']),
      node('Add', ['x1', 'ca'], ['x1c']),
      node('Add', ['x1c', 'peak'], ['x2']),
      node('Tanh', ['x2'], ['h']),
      // Logits and the fixed biases.
      node('MatMul', ['h', 'w_out'], ['l0']),
      node('Add', ['l0', 'b_out'], ['l1']),
      node('Gather', ['rule_in', 'input_ids'], ['rules']),
      node('MatMul', ['rules', 'rule_out'], ['rule_logits']),
      node('Add', ['l1', 'rule_logits'], ['l2']),
      node('Gather', ['ramp', 'q_pos'], ['ramp_at']),
      node('MatMul', ['ramp_at', 'ramp_out'], ['ramp_logits']),
      node('Add', ['l2', 'ramp_logits'], ['logits']),
    ],
    initializer: [
      floatInit('tok_emb', [V, D_MODEL], w.tok),
      floatInit('pos_emb', [TARGET_POSITIONS, D_MODEL], w.pos),
      ...Object.entries(w.attn).map(([name, data]) => floatInit(name, [D_MODEL, D_MODEL], data)),
      floatInit('w_out', [D_MODEL, V], w.out),
      floatInit('b_out', [V], b.bias),
      floatInit('rule_in', [V, 2], b.ruleIn),
      floatInit('rule_out', [2, V], b.ruleOut),
      floatInit('ramp', [TARGET_POSITIONS, 1], b.ramp),
      floatInit('ramp_out', [1, V], b.rampOut),
      floatInit('attn_scale', [], Float32Array.of(1 / Math.sqrt(HEAD_DIM))),
      floatInit('cross_scale', [], Float32Array.of(CROSS_SHARPNESS / Math.sqrt(HEAD_DIM))),
      floatInit('neg_big', [], Float32Array.of(-1e9)),
      floatInit('zero_f', [], Float32Array.of(0)),
      int64Init('heads_shape', [4], [0, -1, HEADS, HEAD_DIM]),
      int64Init('merge_shape', [3], [0, 0, D_MODEL]),
      int64Init('idx_1', [], [1]),
      int64Init('idx_2', [], [2]),
      int64Init('zero_i64', [], [0]),
      int64Init('one_i64', [], [1]),
      int64Init('axes_1', [1], [1]),
    ],
    input: [
      valueInfo('input_ids', I64, ['batch_size', 'decoder_sequence_length']),
      valueInfo('encoder_hidden_states', F, ['batch_size', 'encoder_sequence_length_out', D_MODEL]),
      valueInfo(`${PAST}.decoder.key`, F, kvDims('past_decoder_sequence_length')),
      valueInfo(`${PAST}.decoder.value`, F, kvDims('past_decoder_sequence_length')),
      valueInfo(`${PAST}.encoder.key`, F, kvDims('encoder_sequence_length_out')),
      valueInfo(`${PAST}.encoder.value`, F, kvDims('encoder_sequence_length_out')),
      valueInfo('use_cache_branch', BOOL, [1]),
    ],
    output: [
      valueInfo('logits', F, ['batch_size', 'decoder_sequence_length', V]),
      valueInfo(`${PRESENT}.decoder.key`, F, kvDims('present_decoder_sequence_length')),
      valueInfo(`${PRESENT}.decoder.value`, F, kvDims('present_decoder_sequence_length')),
      valueInfo(`${PRESENT}.encoder.key`, F, kvDims('encoder_sequence_length_out')),
      valueInfo(`${PRESENT}.encoder.value`, F, kvDims('encoder_sequence_length_out')),
    ],
  })
}

function writeWhisperFolder(dir: string) {
  const v = whisperFixtureVocab()
  const V = v.tokens.length
  const w = whisperFixtureWeights(V)
  mkdirSync(join(dir, 'onnx'), { recursive: true })
  const json = (name: string, value: unknown) =>
    writeFileSync(join(dir, name), `${JSON.stringify(value, null, 2)}\n`)
  const space = v.tokens.indexOf('Ġ')
  const ids = {
    bos_token_id: v.eos,
    eos_token_id: v.eos,
    pad_token_id: v.eos,
    decoder_start_token_id: v.sot,
  }
  json('config.json', {
    model_type: 'whisper',
    architectures: ['WhisperForConditionalGeneration'],
    is_encoder_decoder: true,
    d_model: D_MODEL,
    encoder_layers: 1,
    decoder_layers: 1,
    encoder_attention_heads: HEADS,
    decoder_attention_heads: HEADS,
    encoder_ffn_dim: D_MODEL,
    decoder_ffn_dim: D_MODEL,
    num_mel_bins: MEL_BINS,
    vocab_size: V,
    max_source_positions: SOURCE_POSITIONS,
    max_target_positions: TARGET_POSITIONS,
    begin_suppress_tokens: [space, v.eos],
    use_cache: true,
    ...ids,
  })
  json('generation_config.json', {
    ...ids,
    max_length: TARGET_POSITIONS,
    is_multilingual: true,
    lang_to_id: Object.fromEntries(Object.entries(v.lang).map(([l, id]) => [`<|${l}|>`, id])),
    task_to_id: { translate: v.translate, transcribe: v.transcribe },
    no_timestamps_token_id: v.notimestamps,
    prev_sot_token_id: v.startofprev,
    begin_suppress_tokens: [space, v.eos],
    max_initial_timestamp_index: 1,
    return_timestamps: false,
  })
  json('preprocessor_config.json', {
    feature_extractor_type: 'WhisperFeatureExtractor',
    processor_class: 'WhisperProcessor',
    feature_size: MEL_BINS,
    n_fft: 400,
    hop_length: 160,
    chunk_length: 30,
    n_samples: 480_000,
    nb_max_frames: FRAMES,
    sampling_rate: 16_000,
    padding_side: 'right',
    padding_value: 0,
    return_attention_mask: false,
  })
  json('tokenizer.json', tokenizerJson(v))
  json('tokenizer_config.json', {
    tokenizer_class: 'WhisperTokenizer',
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    pad_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
    model_max_length: 1024,
    add_prefix_space: false,
    errors: 'replace',
    clean_up_tokenization_spaces: true,
  })
  json('synthstack.json', {
    fixture: true,
    fixture_version: WHISPER_FIXTURE_VERSION,
    family: 'tiny Whisper-shaped encoder-decoder, random weights (test fixture)',
    license: 'n/a (generated test fixture)',
  })
  writeFileSync(join(dir, 'onnx', 'encoder_model.onnx'), buildWhisperEncoderOnnx(w))
  writeFileSync(join(dir, 'onnx', 'decoder_model_merged.onnx'), buildWhisperDecoderOnnx(w, v))
}

/** Build (or reuse, when current) `<root>/whisper/fixture-whisper-tiny`. Returns its folder. */
export function ensureWhisperFixture(root: string): string {
  const dir = join(root, 'whisper', FIXTURE_WHISPER)
  const meta = join(dir, 'synthstack.json')
  const current =
    existsSync(meta) &&
    existsSync(join(dir, 'onnx', 'decoder_model_merged.onnx')) &&
    JSON.parse(readFileSync(meta, 'utf8')).fixture_version === WHISPER_FIXTURE_VERSION
  if (!current) writeWhisperFolder(dir)
  return dir
}
