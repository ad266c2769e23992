import { sql } from 'drizzle-orm'
import {
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'
import { workspaces } from './workspaces'

/** A job's life: queued → running → succeeded | failed (retried) → … → dead; or cancelled. */
export const jobStatuses = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'dead',
  'cancelled',
] as const
export type JobStatus = (typeof jobStatuses)[number]
export const jobPriorities = ['high', 'normal', 'low'] as const
export type JobPriority = (typeof jobPriorities)[number]

const ts = (name: string) => timestamp(name, { withTimezone: true })

/** One background job. The worker moves it with conditional updates, so duplicates are no-ops. */
export const jobs = pgTable(
  'jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    status: text('status', { enum: jobStatuses }).notNull().default('queued'),
    priority: text('priority', { enum: jobPriorities }).notNull().default('normal'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(3),
    progress: integer('progress').notNull().default(0),
    progressMessage: text('progress_message'),
    result: jsonb('result'),
    error: text('error'),
    runAt: ts('run_at'),
    idempotencyKey: text('idempotency_key'),
    /** The QStash message of the current run (cancel deletes it; replay replaces it). */
    messageId: text('message_id'),
    dlqId: text('dlq_id'),
    scheduleId: uuid('schedule_id'),
    /** While running: until when the claim holds (a crashed attempt frees it). */
    lockedUntil: ts('locked_until'),
    createdAt: ts('created_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    check(
      'jobs_status_check',
      sql`${t.status} in ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')`,
    ),
    check('jobs_priority_check', sql`${t.priority} in ('high', 'normal', 'low')`),
    check('jobs_progress_check', sql`${t.progress} between 0 and 100`),
    check('jobs_max_attempts_check', sql`${t.maxAttempts} between 1 and 20`),
    uniqueIndex('jobs_workspace_idempotency_key').on(t.workspaceId, t.idempotencyKey),
    index('jobs_workspace_created').on(t.workspaceId, t.createdAt),
    index('jobs_workspace_status').on(t.workspaceId, t.status),
  ],
)

/** Every delivery the worker ran for a job, in order; a replay appends to the same log. */
export const jobAttempts = pgTable(
  'job_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: uuid('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    messageId: text('message_id'),
    retried: integer('retried').notNull().default(0),
    status: text('status', { enum: ['running', 'succeeded', 'failed'] })
      .notNull()
      .default('running'),
    error: text('error'),
    startedAt: ts('started_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
  },
  (t) => [uniqueIndex('job_attempts_job_attempt').on(t.jobId, t.attempt)],
)

/** Cron schedules; QStash holds the timer, this row the workspace, type and payload. */
export const jobSchedules = pgTable(
  'job_schedules',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    cron: text('cron').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    priority: text('priority', { enum: jobPriorities }).notNull().default('normal'),
    maxAttempts: integer('max_attempts').notNull().default(3),
    qstashScheduleId: text('qstash_schedule_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('job_schedules_workspace').on(t.workspaceId)],
)

/** Mail written by `email.send` when no provider is configured (and a log when one is). */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    jobId: uuid('job_id').references(() => jobs.id, { onDelete: 'set null' }),
    to: jsonb('to').notNull(),
    from: text('from').notNull(),
    subject: text('subject').notNull(),
    text: text('text'),
    html: text('html'),
    provider: text('provider', { enum: ['outbox', 'resend'] }).notNull(),
    providerId: text('provider_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('email_outbox_job').on(t.jobId),
    index('email_outbox_workspace').on(t.workspaceId, t.createdAt),
  ],
)

export type Job = typeof jobs.$inferSelect
export type NewJob = typeof jobs.$inferInsert
export type JobAttempt = typeof jobAttempts.$inferSelect
export type JobSchedule = typeof jobSchedules.$inferSelect
export type EmailOutboxRow = typeof emailOutbox.$inferSelect
