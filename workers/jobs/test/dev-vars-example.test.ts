import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ConfigSchema } from '../src/config'

// Secrets are set with `wrangler secret put`, never in wrangler.toml, so the example file is the
// one place a deployer learns their names: it must list every variable the worker reads.
describe('workers/jobs/.dev.vars.example', () => {
  it('documents every variable the config reads', () => {
    const example = readFileSync(new URL('../.dev.vars.example', import.meta.url), 'utf8')
    const documented = new Set(
      [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]),
    )
    const variables = Object.keys(ConfigSchema.shape).filter((name) => name !== 'ENVIRONMENT')
    expect(variables.length).toBeGreaterThan(10)
    expect(variables.filter((name) => !documented.has(name))).toEqual([])
  })
})
