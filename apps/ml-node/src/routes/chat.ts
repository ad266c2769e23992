import { randomUUID } from 'node:crypto'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { z } from 'zod'
import type { ChatMessage, ChatService } from '../chat/service.js'
import type { Config } from '../config.js'
import { badRequest, readJson } from '../http/errors.js'

const contentPart = z.object({ type: z.literal('text'), text: z.string() })

export function chatRoutes(config: Config, svc: ChatService) {
  const body = z.object({
    model: z.string().min(1),
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
    n: z.literal(1, 'only n=1 is supported').nullish(),
    user: z.string().optional(),
    tools: z.undefined('tool calls are not supported by this node').optional(),
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
    const stop = req.stop ? (Array.isArray(req.stop) ? req.stop : [req.stop]) : []
    const maxTokens = req.max_completion_tokens ?? req.max_tokens ?? config.CHAT_MAX_TOKENS
    // Before any byte is sent: unknown model → 404, busy → 429; both in OpenAI's error shape.
    const { entry, release } = await svc.acquire(req.model)
    const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`
    const created = Math.floor(Date.now() / 1000)
    const abort = new AbortController()
    const onClientGone = () => abort.abort()
    c.req.raw.signal.addEventListener('abort', onClientGone, { once: true })
    const opts = {
      maxTokens,
      temperature: req.temperature ?? undefined,
      topP: req.top_p ?? undefined,
      seed: req.seed ?? undefined,
      stop,
      signal: abort.signal,
    }

    if (!req.stream) {
      try {
        const r = await svc.generate(entry, messages, opts)
        return c.json({
          id,
          object: 'chat.completion',
          created,
          model: req.model,
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
        c.req.raw.signal.removeEventListener('abort', onClientGone)
        release()
      }
    }

    const includeUsage = req.stream_options?.include_usage === true
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: req.model,
      system_fingerprint: null,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    })
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => abort.abort())
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
        if (r.aborted || abort.signal.aborted) return
        await stream.writeSSE({ data: JSON.stringify(chunk({}, r.finishReason)) })
        if (includeUsage) {
          await stream.writeSSE({
            data: JSON.stringify({
              id,
              object: 'chat.completion.chunk',
              created,
              model: req.model,
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
        if (!abort.signal.aborted) {
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
        c.req.raw.signal.removeEventListener('abort', onClientGone)
        release()
      }
    })
  })
  return app
}
