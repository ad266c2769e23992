import { defineConfig } from 'drizzle-kit'

// `pnpm --filter @synthstack/db run generate` writes SQL migrations from src/schema.
// Apply them with `pnpm --filter @synthstack/db run migrate` (src/migrate.ts), not drizzle-kit migrate:
// that path goes through the Neon driver and so works against the local emulator as well.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema/index.ts',
  out: './migrations',
  strict: true,
  verbose: true,
})
