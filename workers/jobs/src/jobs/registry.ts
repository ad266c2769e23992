import { emailSend } from './handlers/email-send'
import { embeddingsBatch } from './handlers/embeddings-batch'
import { systemEcho } from './handlers/system-echo'
import { systemFlaky } from './handlers/system-flaky'
import { systemNoop } from './handlers/system-noop'
import { systemSleep } from './handlers/system-sleep'
import { webhookReceived } from './handlers/webhook-received'
import { workflowRun } from './handlers/workflow-run'
import type { JobDefinition } from './types'

/** Every handler the worker runs; one per job type in `@synthstack/jobs` (a test checks). */
export const ALL_JOBS: readonly JobDefinition[] = [
  systemEcho,
  systemNoop,
  systemFlaky,
  systemSleep,
  emailSend,
  embeddingsBatch,
  webhookReceived,
  workflowRun,
] as JobDefinition[]

const TYPE_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/

export function isValidJobType(type: string): boolean {
  return type.length <= 100 && TYPE_PATTERN.test(type)
}

/** Job types by name. Built once per isolate from `ALL_JOBS`. */
export class JobRegistry {
  readonly #jobs = new Map<string, JobDefinition>()

  constructor(definitions: Iterable<JobDefinition> = []) {
    for (const definition of definitions) this.register(definition)
  }

  register(definition: JobDefinition): this {
    if (!isValidJobType(definition.type)) {
      throw new Error(`Invalid job type name: ${definition.type}`)
    }
    if (this.#jobs.has(definition.type)) {
      throw new Error(`Job type registered twice: ${definition.type}`)
    }
    this.#jobs.set(definition.type, definition)
    return this
  }

  get(type: string): JobDefinition | undefined {
    return this.#jobs.get(type)
  }

  types(): string[] {
    return [...this.#jobs.keys()].sort()
  }
}

const registries = new Map<boolean, JobRegistry>()

/** The registry for this configuration; test-only jobs only when `includeTestJobs`. */
export function getRegistry(includeTestJobs: boolean): JobRegistry {
  let registry = registries.get(includeTestJobs)
  if (!registry) {
    registry = new JobRegistry(ALL_JOBS.filter((job) => includeTestJobs || !job.testOnly))
    registries.set(includeTestJobs, registry)
  }
  return registry
}
