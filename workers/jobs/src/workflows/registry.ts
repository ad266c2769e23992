import type { WorkflowName } from '@synthstack/jobs'
import { documentSummarize } from './document-summarize'
import type { WorkflowDefinition } from './types'

/** Every workflow `workflow.run` can start, by name (the names `WorkflowRunPayload` allows). */
export const WORKFLOWS: Record<WorkflowName, WorkflowDefinition> = {
  'document.summarize': documentSummarize,
}

export function getWorkflow(name: string): WorkflowDefinition | undefined {
  return Object.hasOwn(WORKFLOWS, name) ? WORKFLOWS[name as WorkflowName] : undefined
}
