/** QStash's v2 REST API over the engine. */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { ResolvedOptions } from './config'
import type { Engine, Filter, PublishContext, PublishResult } from './engine'
import { badRequest, notFound, QStashError } from './errors'
import { dlqPayload, messagePayload, queuePayload, schedulePayload } from './model'
import {
  type PublishSpec,
  parseDestination,
  parsePublish,
  parseUrl,
  validateName,
} from './publish-request'
import { type RequestContext, Router } from './router'
import { parseWorkflowPublish, type WorkflowPublish, type WorkflowRuns } from './workflows'
import { registerWorkflowRoutes } from './workflows-api'

const MAX_BODY_BYTES = 10 * 1024 * 1024
const FILTER_KEYS = [
  'messageId',
  'messageIds',
  'dlqIds',
  'url',
  'topicName',
  'queueName',
  'scheduleId',
  'flowControlKey',
  'callerIp',
  'callerIP',
  'label',
  'host',
  'path',
  'responseStatus',
  'fromDate',
  'toDate',
  'state',
]

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** The part of the raw request URL after `prefix` (destinations keep their own `?query`). */
function rawTail(c: RequestContext, prefix: string): string {
  const url = c.url
  const at = url.indexOf(prefix)
  return at === -1 ? '' : url.slice(at + prefix.length)
}

function readFilter(c: RequestContext): Filter {
  const filter: Filter = new Map()
  for (const key of FILTER_KEYS) {
    const values = c.queries(key)
    if (!values) continue
    const list = values.flatMap((v) => v.split(',')).filter((v) => v !== '')
    if (list.length > 0) filter.set(key, list)
  }
  return filter
}

function readCount(c: RequestContext, fallback: number, max: number): number {
  const raw = c.query('count')
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw badRequest('invalid count: must be a positive integer')
  return Math.min(n, max)
}

function readBody(c: RequestContext): Promise<Uint8Array> {
  return c.buffer()
}

async function readJson(c: RequestContext): Promise<unknown> {
  const text = await c.text()
  try {
    return JSON.parse(text)
  } catch {
    throw badRequest('failed to parse request body: invalid JSON')
  }
}

function publishResponse(result: PublishResult): Record<string, unknown> {
  return result.deduplicated
    ? { messageId: result.messageId, deduplicated: true }
    : { messageId: result.messageId }
}

export function createApi(
  engine: Engine,
  workflows: WorkflowRuns,
  options: ResolvedOptions,
): Router {
  const app = new Router(MAX_BODY_BYTES)
  const tokenDigest = digest(options.token)

  /** A message, or a workflow trigger/step when its headers say so. */
  const publish = (spec: PublishSpec, wf: WorkflowPublish | undefined, ctx: PublishContext) =>
    wf ? workflows.publish(spec, wf, ctx) : engine.publish(spec, ctx)

  app.error((error, c) => {
    if (error instanceof QStashError) return c.json({ error: error.message }, error.status)
    console.error(
      `qstash emulator: ${c.incoming.method} ${c.path} failed: ${(error as Error).message}`,
    )
    return c.json({ error: 'internal server error' }, 500)
  })

  app.get('/health', (c) => c.json({ status: 'ok' }))

  app.use('/v2/', (c) => {
    const auth = c.header('authorization')
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : c.query('qstash_token')
    if (!bearer || !timingSafeEqual(digest(bearer), tokenDigest)) {
      return c.json({ error: 'Unauthorized' }, 401)
    }
    return undefined
  })

  app.get('/v2/keys', (c) =>
    c.json({ current: options.currentSigningKey, next: options.nextSigningKey }),
  )

  // ---- publish --------------------------------------------------------------------------

  app.post('/v2/publish/*', async (c) => {
    const destination = parseDestination(rawTail(c, '/v2/publish/'))
    const spec = parsePublish(c.headers, destination, await readBody(c))
    const result = publish(spec, parseWorkflowPublish(c.headers), { callerIp: c.ip })
    await engine.commit()
    return c.json(publishResponse(result))
  })

  app.post('/v2/enqueue/*', async (c) => {
    const tail = rawTail(c, '/v2/enqueue/')
    const slash = tail.indexOf('/')
    if (slash <= 0) throw badRequest('queue name and destination are required')
    const queueName = validateName(decodeURIComponent(tail.slice(0, slash)), 'queue')
    const destination = parseDestination(tail.slice(slash + 1))
    const spec = parsePublish(c.headers, destination, await readBody(c))
    const result = publish(spec, parseWorkflowPublish(c.headers), { callerIp: c.ip, queueName })
    await engine.commit()
    return c.json(publishResponse(result))
  })

  app.post('/v2/batch', async (c) => {
    const entries = await readJson(c)
    if (!Array.isArray(entries)) throw badRequest('failed to parse request body: expected an array')
    const ip = c.ip
    // validate every entry before publishing any, so a bad batch publishes nothing
    const parsed = entries.map((entry: unknown, i) => {
      if (typeof entry !== 'object' || entry === null)
        throw badRequest(`batch[${i}]: expected an object`)
      const e = entry as {
        destination?: unknown
        headers?: unknown
        body?: unknown
        queue?: unknown
      }
      if (typeof e.destination !== 'string')
        throw badRequest(`batch[${i}]: destination is required`)
      if (e.body !== undefined && e.body !== null && typeof e.body !== 'string') {
        throw badRequest(`batch[${i}]: body must be a string`)
      }
      if (e.queue !== undefined && typeof e.queue !== 'string') {
        throw badRequest(`batch[${i}]: queue must be a string`)
      }
      const headers = new Headers()
      if (e.headers !== undefined && e.headers !== null) {
        if (typeof e.headers !== 'object' || Array.isArray(e.headers)) {
          throw badRequest(`batch[${i}]: headers must be an object of strings`)
        }
        for (const [name, value] of Object.entries(e.headers)) {
          if (typeof value !== 'string')
            throw badRequest(`batch[${i}]: header ${name} must be a string`)
          try {
            headers.set(name, value)
          } catch {
            throw badRequest(`batch[${i}]: invalid header ${name}`)
          }
        }
      }
      try {
        const destination = parseUrl(e.destination)
        const body = new TextEncoder().encode(typeof e.body === 'string' ? e.body : '')
        const queueName = e.queue ? validateName(e.queue, 'queue') : undefined
        const wf = parseWorkflowPublish(headers)
        if (wf) workflows.check(wf)
        return { spec: parsePublish(headers, destination, body), queueName, wf }
      } catch (error) {
        if (error instanceof QStashError) throw badRequest(`batch[${i}]: ${error.message}`)
        throw error
      }
    })
    const results = parsed.map(({ spec, queueName, wf }) =>
      publishResponse(publish(spec, wf, { callerIp: ip, ...(queueName && { queueName }) })),
    )
    await engine.commit()
    return c.json(results)
  })

  // ---- messages -------------------------------------------------------------------------

  app.get('/v2/messages/:id', (c) => c.json(messagePayload(engine.getMessage(c.param('id')))))

  app.delete('/v2/messages/:id', async (c) => {
    if (!engine.cancel(c.param('id'))) throw notFound('message not found')
    await engine.commit()
    return c.json({ cancelled: 1 }, 202)
  })

  app.delete('/v2/messages', async (c) => {
    const filter = readFilter(c)
    if (!filter.has('messageIds')) {
      // older SDKs send {"messageIds": [...]} as a JSON body
      const text = await c.text()
      if (text.trim() !== '') {
        let ids: unknown
        try {
          ids = (JSON.parse(text) as { messageIds?: unknown }).messageIds
        } catch {
          throw badRequest('failed to parse request body: invalid JSON')
        }
        if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
          throw badRequest('messageIds must be an array of strings')
        }
        filter.set('messageIds', ids as string[])
      }
    }
    let cancelled = 0
    for (const m of engine.listMessages(filter)) if (engine.cancel(m.messageId)) cancelled++
    await engine.commit()
    return c.json({ cancelled }, 202)
  })

  // ---- queues ---------------------------------------------------------------------------

  app.post('/v2/queues', async (c) => {
    const body = (await readJson(c)) as {
      queueName?: unknown
      parallelism?: unknown
      paused?: unknown
    }
    if (typeof body !== 'object' || body === null || typeof body.queueName !== 'string') {
      throw badRequest('queueName is required')
    }
    const name = validateName(body.queueName, 'queue')
    const parallelism = body.parallelism ?? 1
    if (typeof parallelism !== 'number' || !Number.isInteger(parallelism) || parallelism < 1) {
      throw badRequest('parallelism must be an integer greater than 0')
    }
    if (body.paused !== undefined && typeof body.paused !== 'boolean') {
      throw badRequest('paused must be a boolean')
    }
    engine.upsertQueue(name, parallelism, body.paused ?? false)
    await engine.commit()
    return c.empty(200)
  })

  app.get('/v2/queues', (c) =>
    c.json(engine.listQueues().map((q) => queuePayload(q, engine.queueLag(q.name)))),
  )

  app.get('/v2/queues/:name', (c) => {
    const q = engine.getQueue(c.param('name'))
    return c.json(queuePayload(q, engine.queueLag(q.name)))
  })

  app.delete('/v2/queues/:name', async (c) => {
    engine.deleteQueue(c.param('name'))
    await engine.commit()
    return c.empty(200)
  })

  for (const action of ['pause', 'resume'] as const) {
    app.post(`/v2/queues/:name/${action}`, async (c) => {
      engine.setQueuePaused(c.param('name'), action === 'pause')
      await engine.commit()
      return c.empty(200)
    })
  }

  // ---- schedules ------------------------------------------------------------------------

  for (const action of ['pause', 'resume'] as const) {
    app.on(['PATCH', 'POST'], `/v2/schedules/:id/${action}`, async (c) => {
      engine.setSchedulePaused(c.param('id'), action === 'pause')
      await engine.commit()
      return c.empty(200)
    })
  }

  app.post('/v2/schedules/*', async (c) => {
    const destination = parseDestination(rawTail(c, '/v2/schedules/'))
    const headers = c.headers
    const cron = headers.get('upstash-cron')
    if (!cron) throw badRequest('Upstash-Cron header is required')
    const spec = parsePublish(headers, destination, await readBody(c))
    const scheduleId = headers.get('upstash-schedule-id') ?? undefined
    const queueName = headers.get('upstash-queue-name') ?? undefined
    const id = engine.createSchedule(spec, {
      cron,
      callerIp: c.ip,
      ...(scheduleId !== undefined && { scheduleId: validateName(scheduleId, 'schedule') }),
      ...(queueName !== undefined && { queueName: validateName(queueName, 'queue') }),
    })
    await engine.commit()
    return c.json({ scheduleId: id })
  })

  app.get('/v2/schedules', (c) => c.json(engine.listSchedules().map(schedulePayload)))

  app.get('/v2/schedules/:id', (c) => c.json(schedulePayload(engine.getSchedule(c.param('id')))))

  app.delete('/v2/schedules/:id', async (c) => {
    if (!engine.deleteSchedule(c.param('id'))) throw notFound('schedule not found')
    await engine.commit()
    return c.empty(200)
  })

  // ---- DLQ ------------------------------------------------------------------------------

  app.get('/v2/dlq', (c) => {
    const { page, cursor } = engine.listDlq(
      readFilter(c),
      c.query('cursor'),
      readCount(c, 100, 100),
    )
    return c.json({ messages: page.map(dlqPayload), ...(cursor && { cursor }) })
  })

  app.get('/v2/dlq/:id', (c) => c.json(dlqPayload(engine.getDlq(c.param('id')))))

  app.delete('/v2/dlq/:id', async (c) => {
    if (!engine.deleteDlq(c.param('id'))) throw notFound('dlq message not found')
    await engine.commit()
    return c.empty(200)
  })

  app.delete('/v2/dlq', async (c) => {
    const filter = readFilter(c)
    if (!filter.has('dlqIds')) {
      // older SDKs send {"dlqIds": [...]} as a JSON body
      const text = await c.text()
      if (text.trim() !== '') {
        let ids: unknown
        try {
          ids = (JSON.parse(text) as { dlqIds?: unknown }).dlqIds
        } catch {
          throw badRequest('failed to parse request body: invalid JSON')
        }
        if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
          throw badRequest('dlqIds must be an array of strings')
        }
        filter.set('dlqIds', ids as string[])
      }
    }
    const byIds = filter.has('dlqIds')
    const { page, cursor } = engine.listDlq(
      filter,
      byIds ? undefined : c.query('cursor'),
      byIds ? Number.MAX_SAFE_INTEGER : readCount(c, 100, 100),
    )
    let deleted = 0
    for (const d of page) if (engine.deleteDlq(d.dlqId)) deleted++
    await engine.commit()
    return c.json({ deleted, ...(cursor && { cursor }) })
  })

  const retryOverride = (c: RequestContext) => {
    const headers = c.headers
    const has = [...headers.keys()].some(
      (k) => k.startsWith('upstash-') && !k.startsWith('upstash-telemetry-'),
    )
    if (!has) return {}
    // only settings the caller actually sent override the original message
    const spec = parsePublish(headers, 'http://override.invalid', new Uint8Array())
    const override: Record<string, unknown> = {}
    if (headers.has('upstash-retries')) override.retries = spec.retries
    if (headers.has('upstash-delay')) override.delayMs = spec.delayMs
    if (headers.has('upstash-not-before')) override.notBefore = spec.notBefore
    if (headers.has('upstash-retry-delay')) override.retryDelay = spec.retryDelay
    if (headers.has('upstash-timeout')) override.timeoutMs = spec.timeoutMs
    if (headers.has('upstash-method')) override.method = spec.method
    if (spec.callback)
      Object.assign(override, { callback: spec.callback, callbackConfig: spec.callbackConfig })
    if (spec.failureCallback) {
      Object.assign(override, {
        failureCallback: spec.failureCallback,
        failureCallbackConfig: spec.failureCallbackConfig,
      })
    }
    return override
  }

  app.post('/v2/dlq/retry/:id', async (c) => {
    const result = engine.retryDlq(c.param('id'), retryOverride(c))
    await engine.commit()
    return c.json(publishResponse(result), 201)
  })

  app.post('/v2/dlq/retry', async (c) => {
    const filter = readFilter(c)
    const byIds = filter.has('dlqIds')
    const override = retryOverride(c)
    if (byIds) {
      const ids = filter.get('dlqIds') as string[]
      for (const id of ids) engine.getDlq(id) // 404 before retrying any
    }
    const { page, cursor } = engine.listDlq(
      filter,
      byIds ? undefined : c.query('cursor'),
      byIds ? Number.MAX_SAFE_INTEGER : readCount(c, 100, 100),
    )
    const responses = page.map((d) => publishResponse(engine.retryDlq(d.dlqId, override)))
    await engine.commit()
    return c.json({ responses, ...(cursor && { cursor }) }, 201)
  })

  registerWorkflowRoutes(app, engine, workflows)

  // ---- logs -----------------------------------------------------------------------------

  for (const [path, field] of [
    ['/v2/events', 'events'],
    ['/v2/logs', 'logs'],
  ] as const) {
    app.get(path, (c) => {
      const { page, cursor } = engine.listEvents(
        readFilter(c),
        c.query('cursor'),
        readCount(c, 100, 1000),
      )
      return c.json({ [field]: page, ...(cursor && { cursor }) })
    })
  }

  return app
}
