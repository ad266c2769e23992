import { sql } from 'drizzle-orm'
import {
  boolean,
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

const ts = (name: string) => timestamp(name, { withTimezone: true })

export const webhookSchemes = ['standard', 'stripe', 'github'] as const
export type WebhookScheme = (typeof webhookSchemes)[number]

/**
 * An inbound webhook sender (`POST /webhooks/:id`). The secret is stored encrypted (AES-GCM) and
 * never returned after creation. `mappings` maps event types to job types (`*` = any other).
 */
export const webhookSources = pgTable(
  'webhook_sources',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    scheme: text('scheme', { enum: webhookSchemes }).notNull(),
    secretCiphertext: text('secret_ciphertext').notNull(),
    mappings: jsonb('mappings').$type<Record<string, string>>().notNull(),
    priority: text('priority', { enum: ['high', 'normal', 'low'] })
      .notNull()
      .default('normal'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    check('webhook_sources_scheme_check', sql`${t.scheme} in ('standard', 'stripe', 'github')`),
    index('webhook_sources_workspace').on(t.workspaceId),
  ],
)

/** An outbound endpoint a workspace registered for events (job.succeeded, job.dead, …). */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    events: jsonb('events').$type<string[]>().notNull(),
    secretCiphertext: text('secret_ciphertext').notNull(),
    active: boolean('active').notNull().default(true),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('webhook_endpoints_workspace').on(t.workspaceId)],
)

/** One outbound event sent to one endpoint, retried through QStash, with its last outcome. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceId: uuid('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    responseStatus: integer('response_status'),
    messageId: text('message_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_endpoint_event').on(t.endpointId, t.eventId),
    index('webhook_deliveries_workspace').on(t.workspaceId, t.createdAt),
  ],
)

export type WebhookSource = typeof webhookSources.$inferSelect
export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect
