import { sql } from 'drizzle-orm'
import { check, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'

/** Plans a workspace can be on; billing and limits key off this. */
export const workspacePlans = ['free', 'pro', 'enterprise'] as const
export type WorkspacePlan = (typeof workspacePlans)[number]

/** A tenant: every row that belongs to a workspace carries its id. */
export const workspaces = pgTable(
  'workspaces',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    plan: text('plan', { enum: workspacePlans }).notNull().default('free'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('workspaces_plan_check', sql`${t.plan} in ('free', 'pro', 'enterprise')`),
    check('workspaces_name_check', sql`length(${t.name}) between 1 and 200`),
  ],
)

export type Workspace = typeof workspaces.$inferSelect
export type NewWorkspace = typeof workspaces.$inferInsert
