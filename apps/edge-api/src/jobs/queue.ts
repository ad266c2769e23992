import { getJobType, LANES, LONG_LANE, laneFor, PRIORITIES, type Priority } from '@synthstack/jobs'
import { Client } from '@upstash/qstash'
import type { Config } from '../config'
import { ApiError } from '../errors'

const clients = new WeakMap<Config, Client>()
const lanesReady = new WeakMap<Config, Promise<void>>()

export function qstashClient(config: Config): Client {
  let client = clients.get(config)
  if (!client) {
    client = new Client({
      baseUrl: config.QSTASH_URL,
      token: config.QSTASH_TOKEN,
      enableTelemetry: false,
      retry: { retries: 2, backoff: () => 50 },
    })
    clients.set(config, client)
  }
  return client
}

export function workerUrl(config: Config): string {
  if (!config.JOBS_WORKER_URL) {
    throw new ApiError(503, {
      type: 'server_error',
      code: 'jobs_not_configured',
      message: 'Background jobs are not configured (JOBS_WORKER_URL is unset).',
    })
  }
  return config.JOBS_WORKER_URL.replace(/\/+$/, '')
}

export function laneParallelism(config: Config): Record<Priority, number> {
  return {
    high: config.JOBS_PARALLELISM_HIGH,
    normal: config.JOBS_PARALLELISM_NORMAL,
    low: config.JOBS_PARALLELISM_LOW,
  }
}

/**
 * Creates or updates the lanes (QStash queues: one per priority, and the long lane) with their
 * parallelism, once per isolate.
 * Upsert is idempotent, so isolates racing each other are harmless; a failure is retried on the
 * next enqueue.
 */
export function ensureLanes(config: Config): Promise<void> {
  let ready = lanesReady.get(config)
  if (!ready) {
    const client = qstashClient(config)
    const parallelism = laneParallelism(config)
    ready = Promise.all([
      ...PRIORITIES.map((priority) =>
        client.queue({ queueName: LANES[priority] }).upsert({ parallelism: parallelism[priority] }),
      ),
      client.queue({ queueName: LONG_LANE }).upsert({ parallelism: config.JOBS_PARALLELISM_LONG }),
    ]).then(() => undefined)
    ready.catch(() => lanesReady.delete(config))
    lanesReady.set(config, ready)
  }
  return ready
}

export interface PublishInput {
  id: string
  type: string
  payload: unknown
  priority: Priority
  maxAttempts: number
  /** Not before this time: published with a delay outside the lanes (QStash queues take none). */
  runAt: Date | null
}

/**
 * Sends a job to the worker through QStash: `POST {worker}/jobs/{type}?job_id={id}` with the
 * payload as body, `retries` = max attempts - 1 (QStash's exponential backoff between them) and
 * the failure callback that marks the job dead. Due jobs go through their priority lane (the long
 * lane for long-running types); a job for later is published with `delay` (QStash queues take
 * none) and runs on time.
 */
export async function publishJob(config: Config, job: PublishInput): Promise<string> {
  const base = workerUrl(config)
  const client = qstashClient(config)
  const request = {
    url: `${base}/jobs/${job.type}?job_id=${job.id}`,
    body: job.payload,
    retries: job.maxAttempts - 1,
    failureCallback: `${base}/callbacks/failure?job_id=${job.id}`,
  }
  try {
    const delaySeconds = job.runAt ? Math.ceil((job.runAt.getTime() - Date.now()) / 1000) : 0
    if (delaySeconds > 0) {
      const { messageId } = await client.publishJSON({ ...request, delay: delaySeconds })
      return messageId
    }
    await ensureLanes(config)
    const longRunning = getJobType(job.type, true)?.longRunning === true
    const { messageId } = await client
      .queue({ queueName: laneFor(job.priority, longRunning) })
      .enqueueJSON(request)
    return messageId
  } catch (error) {
    if (error instanceof ApiError) throw error
    console.error(`qstash publish failed: ${error instanceof Error ? error.name : 'error'}`)
    throw new ApiError(503, {
      type: 'server_error',
      code: 'queue_unavailable',
      message: 'The job queue is unavailable; try again.',
      headers: { 'Retry-After': '5' },
    })
  }
}
