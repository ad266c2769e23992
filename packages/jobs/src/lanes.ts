/** Priorities a job can have; each is its own QStash queue ("lane") with its own parallelism. */
export const PRIORITIES = ['high', 'normal', 'low'] as const
export type Priority = (typeof PRIORITIES)[number]

/** QStash queue names, one per priority. */
export const LANES: Record<Priority, string> = {
  high: 'jobs-high',
  normal: 'jobs-normal',
  low: 'jobs-low',
}

/** Deliveries in flight at once per lane, unless configured (`JOBS_PARALLELISM_<PRIORITY>`). */
export const DEFAULT_PARALLELISM: Record<Priority, number> = { high: 20, normal: 10, low: 2 }

/**
 * The queue of job types whose deliveries stay open a long time (`longRunning` in their spec),
 * whatever their priority, with its own parallelism (`JOBS_PARALLELISM_LONG`).
 */
export const LONG_LANE = 'jobs-long'
export const DEFAULT_LONG_PARALLELISM = 10

/** The queue a due job goes through: the long lane for long-running types, else its priority's. */
export const laneFor = (priority: Priority, longRunning = false): string =>
  longRunning ? LONG_LANE : LANES[priority]

/** Statuses after which nothing more happens to a job (unless a dead one is replayed). */
export const TERMINAL_STATUSES = ['succeeded', 'dead', 'cancelled'] as const
export const JOB_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'dead',
  'cancelled',
] as const
export type JobStatus = (typeof JOB_STATUSES)[number]

export const isTerminal = (status: string): boolean =>
  (TERMINAL_STATUSES as readonly string[]).includes(status)

/** Attempts a job gets unless it asks otherwise; QStash `retries` is this minus one. */
export const DEFAULT_MAX_ATTEMPTS = 3
export const MAX_MAX_ATTEMPTS = 20
