import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers'
import type { Config } from '../config.js'
import { type OnnxModelInfo, refreshModelFolder } from './discovery.js'
import { loadErrorMessage, transformers, withDevice } from './runtime.js'

export interface PairScore {
  score: number
  tokens: number
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))

/**
 * A cross-encoder reranker (e.g. bge-reranker, ms-marco MiniLM) from a local folder: each
 * (query, document) pair is read together by the model, which outputs relevance logits.
 */
export class OnnxCrossEncoder {
  private tokenizer: PreTrainedTokenizer | null = null
  private model: PreTrainedModel | null = null

  constructor(
    readonly info: OnnxModelInfo,
    private readonly config: Config,
  ) {}

  get id() {
    return this.info.id
  }

  async load() {
    const { info } = this
    refreshModelFolder(info)
    if (info.problem) throw new Error(info.problem)
    const t0 = performance.now()
    try {
      const t = await transformers(this.config)
      this.tokenizer = await t.AutoTokenizer.from_pretrained(info.dir)
      const { value, details } = await withDevice(this.config, (device, session_options) =>
        t.AutoModelForSequenceClassification.from_pretrained(info.dir, {
          device,
          dtype: info.dtype,
          session_options,
        }),
      )
      this.model = value
      return { loadMs: performance.now() - t0, details }
    } catch (err) {
      throw new Error(loadErrorMessage(info, err))
    }
  }

  /** Scores pairs in one run; sigmoid of the logit for one label, P(last label) for several. */
  async score(pairs: [string, string][]): Promise<PairScore[]> {
    const { tokenizer, model } = this
    if (!tokenizer || !model) throw new Error('cross-encoder not loaded')
    const inputs = tokenizer(
      pairs.map((p) => p[0]),
      { text_pair: pairs.map((p) => p[1]), padding: true, truncation: true },
    )
    const { logits } = (await model(inputs)) as { logits: Tensor }
    const labels = (logits.dims[1] as number) ?? 1
    const data = logits.data as Float32Array
    const mask = (inputs.attention_mask as Tensor).data as BigInt64Array
    const seq = (inputs.attention_mask as Tensor).dims[1] as number
    const activation = this.info.meta.activation ?? (labels === 1 ? 'sigmoid' : 'softmax')
    return pairs.map((_, b) => {
      const row = Array.from(data.subarray(b * labels, (b + 1) * labels))
      let score: number
      if (activation === 'softmax' && labels > 1) {
        const max = Math.max(...row)
        const exps = row.map((x) => Math.exp(x - max))
        score = (exps[labels - 1] as number) / exps.reduce((a, c) => a + c, 0)
      } else {
        const raw = row[labels - 1] as number
        score = activation === 'none' ? raw : sigmoid(raw)
      }
      let tokens = 0
      for (let s = 0; s < seq; s++) tokens += Number(mask[b * seq + s])
      return { score, tokens }
    })
  }

  async close() {
    await this.model?.dispose()
    this.model = null
  }
}
