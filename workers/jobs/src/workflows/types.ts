import type { WorkflowName } from '@synthstack/jobs'
import type { WorkflowContext } from '@upstash/workflow'
import type { Config } from '../config'
import type { Sql } from '../store/db'
import type { JobAttempt, RunPayload } from './job-link'

/** What a workflow's steps get besides the SDK's context. */
export interface StepContext {
  config: Config
  sql: Sql
  /** The job attempt this run belongs to. */
  job: JobAttempt
  /** Progress on the job row and as an SSE event. */
  progress(percent: number, message: string): Promise<void>
  /** Writes the job's result (the last step does this); false when the attempt is gone. */
  record(result: unknown): Promise<boolean>
}

/** A workflow `workflow.run` can start: its name and its route function. */
export interface WorkflowDefinition {
  name: WorkflowName
  run(context: WorkflowContext<RunPayload>, steps: StepContext): Promise<unknown>
}
