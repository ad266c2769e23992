import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RunningServer, startServer } from '@synthstack/ml-node/src/server.js'
import { Client } from '@upstash/workflow'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Json, jobsClient } from './support/client'
import { type JobsStack, startJobsStack } from './support/jobs-stack'

// `workflow.run` end to end: edge API (wrangler dev) → QStash emulator → jobs worker (wrangler
// dev), whose handler starts an Upstash Workflow run that the emulator drives step by step
// through the worker's `/workflows/document.summarize` endpoint, calling a real ml-node. QStash
// time is scaled 100× down (a 30 s workflow sleep lasts 300 ms).

const TEXT = [
  'Serverless functions cannot hold a worker loop, so background work rides on an HTTP queue.',
  'Upstash Workflow turns a function into durable steps whose results are kept between calls.',
  'A failing step is retried on its own, and the steps before it are never run again.',
  'The ml-node analyses the text and embeds the summary for search.',
].join(' ')

let s: JobsStack
let ml: RunningServer
let modelDir: string
let mlKey: string
let client: ReturnType<typeof jobsClient>

beforeAll(async () => {
  modelDir = mkdtempSync(join(tmpdir(), 'e2e-wf-ml-'))
  mlKey = `e2e-wf-${crypto.randomUUID()}`
  ml = await startServer(
    { PORT: 0, HOST: '127.0.0.1', MODEL_DIR: modelDir },
    { env: { ML_NODE_API_KEYS: mlKey } },
  )
  s = await startJobsStack({
    timeScale: 0.01,
    workerVars: { ML_NODE_URL: ml.url, ML_NODE_API_KEY: mlKey },
  })
  const ws = await s.newWorkspace()
  client = jobsClient(s.api.url, ws.apiKey)
})

afterAll(async () => {
  await s?.close()
  await ml?.close()
  if (modelDir) rmSync(modelDir, { recursive: true, force: true })
})

async function mlCall(path: string, body: unknown): Promise<Json> {
  const response = await fetch(`${ml.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${mlKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(response.status).toBe(200)
  return response.json()
}

/** The job's SSE stream, read to its end (the API closes it after the terminal event). */
async function events(jobId: string): Promise<Json[]> {
  const response = await fetch(`${s.api.url}/v1/jobs/${jobId}/events`, {
    headers: { authorization: client.auth },
  })
  const text = await response.text()
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}'))
}

const progressMessages = (list: Json[]): string[] =>
  list.filter((e) => e.type === 'progress').map((e) => e.message as string)

function cosine(a: number[], b: number[]): number {
  let dot = 0
  let na = 0
  let nb = 0
  a.forEach((x, i) => {
    const y = b[i] as number
    dot += x * y
    na += x * x
    nb += y * y
  })
  return dot / Math.sqrt(na * nb)
}

describe('workflow.run on Upstash Workflow', () => {
  it('runs document.summarize to success with the ml-node outputs, progress over SSE', async () => {
    const created = await client.enqueue({
      type: 'workflow.run',
      payload: { workflow: 'document.summarize', input: { text: TEXT, pause_seconds: 30 } },
    })
    expect(created.status).toBe(201)
    const stream = await events(created.body.id)
    const done = await client.waitFor(created.body.id, ['succeeded', 'dead'], 60_000)
    expect(done).toMatchObject({ status: 'succeeded', progress: 100, attempts: 1 })
    // a long-running type: it went through the long lane, not its priority's (normal)
    const laneLog = await fetch(`${s.qstash.url}/v2/events?queueName=jobs-long&state=DELIVERED`, {
      headers: { authorization: `Bearer ${s.qstash.token}` },
    })
    const { events: delivered } = (await laneLog.json()) as { events: { url: string }[] }
    expect(delivered.some((e) => e.url.includes(`job_id=${created.body.id}`))).toBe(true)

    // what the ml-node itself answers for the same text
    const analysis = await mlCall('/v1/analyze', {
      text: TEXT,
      tasks: ['language', 'sentiment', 'keywords', 'summary'],
      summary_sentences: 2,
      max_keywords: 8,
    })
    const keywords = analysis.keywords.map((k: Json) => k.text)
    const result = done.result
    expect(result).toMatchObject({
      workflow: 'document.summarize',
      workflow_run_id: `wfr_job-${created.body.id}-1`,
      language: analysis.language.code,
      sentiment: analysis.sentiment.label,
      keywords,
      summary: analysis.summary.text,
      embeddings: { model: 'use-lite-512', dimensions: 512 },
    })
    expect(result.language).toBe('en')
    expect(keywords.length).toBeGreaterThan(0)
    const direct = await mlCall('/v1/embeddings', {
      model: 'use-lite-512',
      input: [analysis.summary.text, keywords.join(', ')],
    })
    expect(cosine(result.embeddings.summary, direct.data[0].embedding)).toBeGreaterThan(0.999)
    expect(cosine(result.embeddings.keywords, direct.data[1].embedding)).toBeGreaterThan(0.999)

    // the row's progress went through each step, in order, and the stream ended on success
    expect(stream[0]).toMatchObject({ type: 'status', status: 'running' })
    expect(stream.filter((e) => e.type === 'progress').map((e) => e.progress)).toEqual([
      5, 30, 50, 75,
    ])
    expect(progressMessages(stream)[1]).toBe(`analyzed: language en, ${keywords.length} keywords`)
    expect(stream.at(-1)).toMatchObject({ type: 'status', status: 'succeeded', progress: 100 })
    // the 30 s workflow sleep, scaled 100× down, lies between analysis and embedding
    const at = (message: RegExp) =>
      Date.parse(stream.find((e) => e.type === 'progress' && message.test(e.message)).at)
    expect(at(/^embedding/) - at(/^analyzed/)).toBeGreaterThanOrEqual(300)

    // QStash's record of the run: every step once, in order, run ended with success
    const workflows = new Client({ baseUrl: s.qstash.url, token: s.qstash.token })
    const { runs } = await workflows.logs({ workflowRunId: result.workflow_run_id })
    expect(runs[0]?.workflowState).toBe('RUN_SUCCESS')
    const names = runs[0]?.steps.flatMap((g) =>
      (g.steps as { stepName?: string }[]).map((step) => step.stepName),
    )
    expect(names).toEqual(['init', 'analyze', 'pause', 'embed', 'record'])
  })

  it('retries a transiently failing step alone: analysis runs once, the job succeeds', async () => {
    const created = await client.enqueue({
      type: 'workflow.run',
      payload: {
        workflow: 'document.summarize',
        input: { text: TEXT, pause_seconds: 0, fail_step: { step: 'embed', times: 2 } },
      },
    })
    const stream = await events(created.body.id)
    const done = await client.waitFor(created.body.id, ['succeeded', 'dead'], 60_000)
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1 })
    expect(done.result.embeddings.dimensions).toBe(512)
    const messages = progressMessages(stream)
    expect(messages.filter((m) => m.startsWith('analyzed'))).toHaveLength(1)
    expect(messages.filter((m) => m.startsWith('embedding'))).toEqual([
      'embedding summary and keywords (delivery 1)',
      'embedding summary and keywords (delivery 2)',
      'embedding summary and keywords (delivery 3)',
    ])
  })

  it('a step that keeps failing fails the job for good: dead with the step error', async () => {
    const created = await client.enqueue({
      type: 'workflow.run',
      payload: {
        workflow: 'document.summarize',
        input: { text: TEXT, pause_seconds: 0, fail_step: { step: 'record', times: 10 } },
      },
    })
    const dead = await client.waitFor(created.body.id, ['dead', 'succeeded'], 60_000)
    expect(dead.status).toBe('dead')
    expect(dead.error).toMatch(
      /workflow document\.summarize failed: .*injected failure in step record/,
    )
    expect(dead.attempts).toBe(1)
    expect(dead.result).toBeNull()
  })

  it('refuses an unknown workflow or a bad input at enqueue, naming the field', async () => {
    const unknown = await client.enqueue({
      type: 'workflow.run',
      payload: { workflow: 'no.such', input: {} },
    })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error).toMatchObject({ param: 'payload.workflow' })
    const bad = await client.enqueue({
      type: 'workflow.run',
      payload: { workflow: 'document.summarize', input: { text: '' } },
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatchObject({ param: 'payload.input.text' })
  })
})
