import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers'
import type { Config } from '../config.js'
import { type InputType, textPrefix } from '../embeddings/input-type.js'
import type { Embedder, EmbeddingBatch } from '../embeddings/use-lite.js'
import { type OnnxModelInfo, refreshModelFolder } from './discovery.js'
import { loadErrorMessage, transformers, withDevice } from './runtime.js'

/** Width of the vectors a folder's model produces: synthstack.json, else config.json. */
export function onnxDimensions(info: OnnxModelInfo): number {
  const d = info.meta.dimensions ?? info.config.hidden_size ?? info.config.d_model
  return typeof d === 'number' ? d : 0
}

/**
 * A feature-extraction ONNX model (bge, e5, gte, MiniLM …) from a local folder: tokenizer and
 * session from transformers.js, pooling (mean over the attention mask, or CLS) and L2
 * normalisation here, so token counts and pooling are explicit.
 */
export class OnnxEmbedder implements Embedder {
  readonly dimensions: number
  private tokenizer: PreTrainedTokenizer | null = null
  private model: PreTrainedModel | null = null

  constructor(
    private readonly info: OnnxModelInfo,
    private readonly config: Config,
  ) {
    this.dimensions = onnxDimensions(info)
  }

  get id() {
    return this.info.id
  }

  prefixFor(type: InputType | undefined) {
    return textPrefix(this.info.meta, type)
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
        t.AutoModel.from_pretrained(info.dir, { device, dtype: info.dtype, session_options }),
      )
      this.model = value
      return {
        loadMs: performance.now() - t0,
        details: { ...details, pooling: info.meta.pooling ?? 'mean' },
      }
    } catch (err) {
      throw new Error(loadErrorMessage(info, err))
    }
  }

  async embed(texts: string[]): Promise<EmbeddingBatch> {
    const { tokenizer, model, info } = this
    if (!tokenizer || !model) throw new Error('embedder not loaded')
    const inputs = tokenizer(texts, { padding: true, truncation: true })
    const out = (await model(inputs)) as Record<string, Tensor>
    const mask = inputs.attention_mask as Tensor
    const [batch, seq] = mask.dims as [number, number]
    const maskData = mask.data as BigInt64Array
    const tokens = Array.from({ length: batch }, (_, b) => {
      let n = 0
      for (let s = 0; s < seq; s++) n += Number(maskData[b * seq + s])
      return n
    })
    const vectors: Float32Array[] = []
    const pooledOut = out.sentence_embedding
    if (pooledOut) {
      const dim = pooledOut.dims[1] as number
      const data = pooledOut.data as Float32Array
      for (let b = 0; b < batch; b++) vectors.push(data.slice(b * dim, (b + 1) * dim))
    } else {
      const hidden = out.last_hidden_state ?? out.token_embeddings
      if (!hidden) throw new Error(`model '${info.id}' returned no last_hidden_state`)
      const dim = hidden.dims[2] as number
      const data = hidden.data as Float32Array
      for (let b = 0; b < batch; b++) {
        const v = new Float32Array(dim)
        if (info.meta.pooling === 'cls') {
          v.set(data.subarray(b * seq * dim, b * seq * dim + dim))
        } else {
          for (let s = 0; s < seq; s++) {
            if (maskData[b * seq + s] === 0n) continue
            const off = (b * seq + s) * dim
            for (let k = 0; k < dim; k++) v[k] = (v[k] as number) + (data[off + k] as number)
          }
          const n = tokens[b] || 1
          for (let k = 0; k < dim; k++) v[k] = (v[k] as number) / n
        }
        vectors.push(v)
      }
    }
    if (info.meta.normalize !== false) {
      for (const v of vectors) {
        let norm = 0
        for (const x of v) norm += x * x
        norm = Math.sqrt(norm) || 1
        for (let k = 0; k < v.length; k++) v[k] = (v[k] as number) / norm
      }
    }
    return { vectors, tokens }
  }

  async close() {
    await this.model?.dispose()
    this.model = null
  }
}
