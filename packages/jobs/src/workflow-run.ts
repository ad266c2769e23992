import * as z from 'zod'
import type { JobTypeSpec } from './definitions'

/**
 * `document.summarize`: analyse a text on the ml-node (language, sentiment, keywords, extractive
 * summary), pause (a durable QStash sleep), embed the summary and the keywords, record the result.
 */
export const DocumentSummarizeInput = z.strictObject({
  /** The ml-node's /v1/analyze takes at most 20,000 characters by default. */
  text: z.string().trim().min(1).max(20_000),
  summary_sentences: z.int().min(1).max(10).default(2),
  max_keywords: z.int().min(1).max(50).default(8),
  /** An embedding model the ml-node serves (`GET /v1/models`). */
  embedding_model: z.string().min(1).max(200).default('use-lite-512'),
  /** The durable sleep between analysis and embedding, in seconds (0 skips it). */
  pause_seconds: z.int().min(0).max(60).default(1),
  /**
   * Test-only (`JOBS_ENABLE_TEST_JOBS`): step `step` throws on its first `times` deliveries, so
   * a transient failure is retried by QStash on its own.
   */
  fail_step: z
    .strictObject({
      step: z.enum(['analyze', 'embed', 'record']),
      times: z.int().min(1).max(10),
    })
    .optional(),
})
export type DocumentSummarizeInput = z.output<typeof DocumentSummarizeInput>

/** Every workflow `workflow.run` can start, by name, with its input. */
export const WorkflowRunPayload = z.discriminatedUnion('workflow', [
  z.strictObject({ workflow: z.literal('document.summarize'), input: DocumentSummarizeInput }),
])
export type WorkflowRunPayload = z.output<typeof WorkflowRunPayload>
export type WorkflowName = WorkflowRunPayload['workflow']

export const workflowRunSpec = {
  type: 'workflow.run',
  description:
    'Runs a multi-step workflow on Upstash Workflow (durable steps, sleep, ml-node calls, each ' +
    'step retried on its own); the job succeeds with the result its last step records.',
  payload: WorkflowRunPayload,
  // Its delivery waits while the run goes: on the long lane, a batch of workflows cannot starve
  // the priority lanes.
  longRunning: true,
} satisfies JobTypeSpec<typeof WorkflowRunPayload>
