import { Hono } from 'hono'
import { z } from 'zod'
import type { Config } from '../config.js'
import { INPUT_TYPES, inputTypeOf } from '../embeddings/input-type.js'
import type { EmbeddingService } from '../embeddings/service.js'
import { badRequest, readJson } from '../http/errors.js'

const body = z.object({
  /** An id or alias; omitted or `default`: the registry's `defaults.embeddings`. */
  model: z.string().min(1).optional(),
  input: z.union([z.string(), z.array(z.unknown()).min(1, 'must not be empty')]),
  encoding_format: z.enum(['float', 'base64']).default('float'),
  dimensions: z.number().int().positive().optional(),
  /** query or passage (document): which prefix an asymmetric embedder puts before each text. */
  input_type: z.enum(INPUT_TYPES).optional(),
  user: z.string().optional(),
})

function toBase64(v: Float32Array) {
  // Little-endian float32 bytes, as OpenAI sends them (every platform Node runs on is LE).
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')
}

export function embeddingsRoutes(config: Config, svc: EmbeddingService) {
  const app = new Hono()
  app.post('/v1/embeddings', async (c) => {
    const req = await readJson(c, body)
    const inputs = typeof req.input === 'string' ? [req.input] : req.input
    const texts: string[] = []
    for (const [i, item] of inputs.entries()) {
      const param = typeof req.input === 'string' ? 'input' : `input[${i}]`
      if (typeof item !== 'string') {
        throw badRequest(param, `'${param}' must be a string (token arrays are not supported).`)
      }
      if (item.trim() === '') throw badRequest(param, `'${param}' must not be empty.`)
      if (item.length > config.MAX_INPUT_CHARS) {
        throw badRequest(param, `'${param}' is longer than ${config.MAX_INPUT_CHARS} characters.`)
      }
      texts.push(item)
    }
    if (texts.length > config.MAX_INPUTS_PER_REQUEST) {
      throw badRequest('input', `At most ${config.MAX_INPUTS_PER_REQUEST} inputs per request.`)
    }
    // `model` in the answer is the id that computed the vectors, not the alias asked for: vectors
    // stored with it stay comparable when an alias is later pointed at another model.
    const model = svc.resolve(req.model)
    const dims = svc.dimensions(model)
    if (req.dimensions !== undefined && req.dimensions !== dims) {
      throw badRequest('dimensions', `Model '${model}' only produces ${dims} dimensions.`)
    }
    const out = await svc.embed(model, texts, c.req.raw.signal, inputTypeOf(req.input_type))
    const tokens = out.reduce((s, o) => s + o.tokens, 0)
    return c.json({
      object: 'list',
      data: out.map((o, index) => ({
        object: 'embedding',
        index,
        embedding: req.encoding_format === 'base64' ? toBase64(o.vector) : Array.from(o.vector),
      })),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    })
  })
  return app
}
