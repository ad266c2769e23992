import { randomUUID } from 'node:crypto'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { z } from 'zod'
import { grammarSchema } from '../chat/json-schema.js'
import type { ChatMessage, ChatService } from '../chat/service.js'
import type { Config } from '../config.js'
import { ApiError, badRequest, readJson } from '../http/errors.js'

const contentPart = z.object({ type: z.literal('text'), text: z.string() })

const responseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
])

/** Fields OpenAI has and this node refuses (a 400 naming them) rather than silently dropping. */
const refused = (what: string) => z.undefined(`${what} is not supported by this node`).nullish()

/** 503 in OpenAI's shape for a chat that ran past CHAT_TIMEOUT_MS (queue, load and generation). */
const chatTimeout = (ms: number) =>
  new ApiError(
    503,
    `The chat completion did not finish within ${ms} ms (CHAT_TIMEOUT_MS).`,
    'server_error',
    null,
    'timeout',
    { 'Retry-After': '5' },
  )

export function chatRoutes(config: Config, svc: ChatService) {
  const body = z.object({
    /** An id or alias; omitted or `default`: the registry's `defaults.chat`. */
    model: z.string().min(1).optional(),
    messages: z
      .array(
        z.object({
          role: z.enum(['system', 'developer', 'user', 'assistant']),
          content: z.union([z.string(), z.array(contentPart).min(1)]),
          name: z.string().optional(),
        }),
      )
      .min(1, 'must hold at least one message'),
    stream: z.boolean().default(false),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
    max_tokens: z.number().int().min(1).max(config.CHAT_MAX_TOKENS).nullish(),
    max_completion_tokens: z.number().int().min(1).max(config.CHAT_MAX_TOKENS).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().gt(0).max(1).nullish(),
    seed: z.number().int().nullish(),
    stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish(),
    frequency_penalty: z.number().min(-2).max(2).nullish(),
    presence_penalty: z.number().min(-2).max(2).nullish(),
    response_format: responseFormat.nullish(),
    n: z.literal(1, 'only n=1 is supported').nullish(),
    logprobs: z.literal(false, 'logprobs are not supported by this node').nullish(),
    top_logprobs: z.literal(0, 'logprobs are not supported by this node').nullish(),
    logit_bias: z
      .record(z.string(), z.number())
      .refine((b) => Object.keys(b).length === 0, 'logit_bias is not supported by this node')
      .nullish(),
    user: z.string().optional(),
    tools: z.array(z.unknown()).max(0, 'tool calls are not supported by this node').nullish(),
    tool_choice: z.enum(['none', 'auto'], 'tool calls are not supported by this node').nullish(),
    functions: refused('function calling'),
    function_call: refused('function calling'),
  })

  const app = new Hono()
  app.post('/v1/chat/completions', async (c) => {
    const req = await readJson(c, body)
    const messages: ChatMessage[] = req.messages.map((m) => ({
      role: m.role,
      content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
    }))
    const last = messages[messages.length - 1]
    if (last?.role === 'assistant') {
      throw badRequest(
        `messages[${messages.length - 1}].role`,
        'The last message must not be from the assistant.',
      )
    }
    // A schema the grammar cannot enforce is a 400 before the request queues.
    if (req.response_format?.type === 'json_schema') {
      grammarSchema(req.response_format.json_schema.schema ?? { type: 'object' })
    }
    const stop = req.stop ? (Array.isArray(req.stop) ? req.stop : [req.stop]) : []
    const maxTokens = req.max_completion_tokens ?? req.max_tokens ?? config.CHAT_MAX_TOKENS
    // One signal for everything that ends this request early: the client leaving, or the deadline
    // (CHAT_TIMEOUT_MS over queue wait, model load and generation).
    const abort = new AbortController()
    const client = c.req.raw.signal
    const onClientGone = () => abort.abort(new Error('request aborted by the client'))
    if (client.aborted) onClientGone()
    else client.addEventListener('abort', onClientGone, { once: true })
    let timedOut = false
    const deadline = setTimeout(() => {
      timedOut = true
      abort.abort(chatTimeout(config.CHAT_TIMEOUT_MS))
    }, config.CHAT_TIMEOUT_MS)
    const done = () => {
      clearTimeout(deadline)
      client.removeEventListener('abort', onClientGone)
    }
    // Before any byte is sent: unknown model → 404, busy → 429, past the deadline → 503; all in
    // OpenAI's error shape. A client that leaves while queued is dropped from the queue.
    let lease: Awaited<ReturnType<ChatService['acquire']>>
    let grammar: Awaited<ReturnType<ChatService['grammar']>>
    try {
      lease = await svc.acquire(req.model, abort.signal)
    } catch (err) {
      done()
      throw err
    }
    try {
      grammar = await svc.grammar(req.response_format ?? undefined)
    } catch (err) {
      done()
      lease.release()
      throw err
    }
    const { entry } = lease
    // The id that generates, not the alias asked for (as OpenAI names the snapshot behind an alias).
    const model = entry.id
    const release = () => {
      done()
      lease.release()
    }
    const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`
    const created = Math.floor(Date.now() / 1000)
    const opts = {
      maxTokens,
      temperature: req.temperature ?? undefined,
      topP: req.top_p ?? undefined,
      seed: req.seed ?? undefined,
      frequencyPenalty: req.frequency_penalty ?? undefined,
      presencePenalty: req.presence_penalty ?? undefined,
      grammar,
      stop,
      signal: abort.signal,
    }

    if (!req.stream) {
      try {
        const r = await svc.generate(entry, messages, opts)
        if (timedOut) throw chatTimeout(config.CHAT_TIMEOUT_MS)
        return c.json({
          id,
          object: 'chat.completion',
          created,
          model,
          system_fingerprint: null,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: r.text, refusal: null },
              logprobs: null,
              finish_reason: r.finishReason,
            },
          ],
          usage: {
            prompt_tokens: r.promptTokens,
            completion_tokens: r.completionTokens,
            total_tokens: r.promptTokens + r.completionTokens,
          },
        })
      } finally {
        release()
      }
    }

    const includeUsage = req.stream_options?.include_usage === true
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: null,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    })
    return streamSSE(c, async (stream) => {
      stream.onAbort(onClientGone)
      try {
        await stream.writeSSE({
          data: JSON.stringify(chunk({ role: 'assistant', content: '' }, null)),
        })
        let pending = Promise.resolve()
        const r = await svc.generate(entry, messages, {
          ...opts,
          onDelta: (text) => {
            if (abort.signal.aborted || text === '') return
            pending = pending.then(() =>
              stream.writeSSE({ data: JSON.stringify(chunk({ content: text }, null)) }),
            )
          },
        })
        await pending
        if (timedOut) {
          // OpenAI's way to fail a stream that has begun: an error event, and no [DONE].
          await stream.writeSSE({
            data: JSON.stringify(chatTimeout(config.CHAT_TIMEOUT_MS).body()),
          })
          return
        }
        if (r.aborted || abort.signal.aborted) return
        await stream.writeSSE({ data: JSON.stringify(chunk({}, r.finishReason)) })
        if (includeUsage) {
          await stream.writeSSE({
            data: JSON.stringify({
              id,
              object: 'chat.completion.chunk',
              created,
              model,
              system_fingerprint: null,
              choices: [],
              usage: {
                prompt_tokens: r.promptTokens,
                completion_tokens: r.completionTokens,
                total_tokens: r.promptTokens + r.completionTokens,
              },
            }),
          })
        }
        await stream.writeSSE({ data: '[DONE]' })
      } catch (err) {
        if (timedOut) {
          await stream
            .writeSSE({ data: JSON.stringify(chatTimeout(config.CHAT_TIMEOUT_MS).body()) })
            .catch(() => undefined)
        } else if (!abort.signal.aborted) {
          console.error('[ml-node] chat stream failed', (err as Error).message)
          await stream
            .writeSSE({
              data: JSON.stringify({
                error: {
                  message: 'generation failed',
                  type: 'server_error',
                  param: null,
                  code: 'generation_failed',
                },
              }),
            })
            .catch(() => undefined)
        }
      } finally {
        release()
      }
    })
  })
  return app
}
