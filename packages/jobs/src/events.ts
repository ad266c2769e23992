import type { JobStatus } from './lanes'

/**
 * One progress event. The worker appends these to a Redis list (`eventsKey(id)`, RPUSH + EXPIRE);
 * the edge API reads new entries since a cursor and streams them as SSE. The list index is the
 * event id, so order is the order the worker wrote them.
 */
export interface JobEvent {
  type: 'status' | 'progress'
  status: JobStatus
  progress: number
  message: string | null
  /** ISO time the worker wrote it. */
  at: string
  attempt?: number
  error?: string | null
}

export const eventsKey = (jobId: string): string => `jobs:events:${jobId}`

/** Events live a day; the job row keeps the final state for good. */
export const EVENTS_TTL_SECONDS = 24 * 60 * 60
