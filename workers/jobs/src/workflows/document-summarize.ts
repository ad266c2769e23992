import { DocumentSummarizeInput } from '@synthstack/jobs'
import { WorkflowNonRetryableError } from '@upstash/workflow'
import { analyze, embed, MlNodeRefused } from './ml-node'
import type { WorkflowDefinition } from './types'

/** A step function that turns an ml-node refusal into a failure QStash does not retry. */
async function permanentOnRefusal<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof MlNodeRefused) throw new WorkflowNonRetryableError(error.message)
    throw error
  }
}

/**
 * `document.summarize`: four durable steps. Each `context.run` result is kept by QStash, so a
 * step that fails is retried alone (the steps before it are replayed from the history, not run).
 *
 * 1. analyze: language, sentiment, keywords and an extractive summary on the ml-node;
 * 2. pause: `context.sleep` (QStash delays the next call; nothing waits in the worker);
 * 3. embed: the summary and the keywords on the ml-node (`/v1/embeddings`);
 * 4. record: the result on the job row, which the job handler then completes.
 */
export const documentSummarize: WorkflowDefinition = {
  name: 'document.summarize',
  async run(context, steps) {
    const input = DocumentSummarizeInput.parse(context.requestPayload.input)
    const delivery = context.retried + 1
    // test-only (the job handler refuses it unless JOBS_ENABLE_TEST_JOBS): a transient failure
    const injectFault = (step: 'analyze' | 'embed' | 'record') => {
      const fault = input.fail_step
      if (fault?.step === step && context.retried < fault.times) {
        throw new Error(`injected failure in step ${step} (delivery ${delivery})`)
      }
    }

    const analysis = await context.run('analyze', () =>
      permanentOnRefusal(async () => {
        injectFault('analyze')
        const a = await analyze(steps.config, input.text, {
          summarySentences: input.summary_sentences,
          maxKeywords: input.max_keywords,
        })
        const result = {
          language: a.language?.code ?? 'und',
          sentiment: a.sentiment?.label ?? 'neutral',
          keywords: (a.keywords ?? []).map((k) => k.text),
          summary: a.summary?.text || input.text.slice(0, 1000),
        }
        await steps.progress(
          30,
          `analyzed: language ${result.language}, ${result.keywords.length} keywords`,
        )
        return result
      }),
    )

    if (input.pause_seconds > 0) await context.sleep('pause', input.pause_seconds)

    const embedded = await context.run('embed', () =>
      permanentOnRefusal(async () => {
        await steps.progress(50, `embedding summary and keywords (delivery ${delivery})`)
        injectFault('embed')
        const keywords = analysis.keywords.join(', ')
        const e = await embed(
          steps.config,
          input.embedding_model,
          keywords ? [analysis.summary, keywords] : [analysis.summary],
        )
        await steps.progress(75, `embedded with ${e.model}`)
        return {
          model: e.model,
          dimensions: e.vectors[0]?.length ?? 0,
          summary: e.vectors[0] ?? [],
          keywords: keywords ? (e.vectors[1] ?? []) : null,
        }
      }),
    )

    return await context.run('record', async () => {
      injectFault('record')
      const recorded = await steps.record({
        workflow: 'document.summarize',
        workflow_run_id: context.workflowRunId,
        ...analysis,
        embeddings: embedded,
      })
      return { recorded }
    })
  },
}
