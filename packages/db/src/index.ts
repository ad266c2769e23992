// Query helpers from the same drizzle-orm copy as the schema (apps must not mix two copies).
export { and, asc, desc, eq, inArray, isNull, ne, or, sql } from 'drizzle-orm'
export * from './client'
export * from './neon-local'
export * from './schema'
