// pnpm --filter @synthstack/sdk generate: rewrites src/schema.generated.ts from the edge API.
import { writeFileSync } from 'node:fs'
import { renderSchemaModule, SCHEMA_FILE } from './render-schema'

writeFileSync(SCHEMA_FILE, renderSchemaModule())
console.log(`wrote ${SCHEMA_FILE}`)
