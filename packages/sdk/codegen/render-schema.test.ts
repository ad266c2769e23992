import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { renderSchemaModule, SCHEMA_FILE } from './render-schema'

describe('src/schema.generated.ts', () => {
  it('matches the edge API as it is now (else run `pnpm --filter @synthstack/sdk generate`)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(renderSchemaModule())
  }, 120_000)
})
