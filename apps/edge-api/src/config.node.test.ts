import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { configSchema } from './config'

// Secrets are set with `wrangler secret put`, never in wrangler.toml's staging/production vars, so
// the example file is the one place a deployer learns their names: it must list every one.
const SECRET = /(_TOKEN|_KEY|_SECRET|^DATABASE_URL)$/

describe('.dev.vars.example', () => {
  it('documents every secret the config reads', () => {
    const example = readFileSync(new URL('../../../.dev.vars.example', import.meta.url), 'utf8')
    const documented = new Set(
      [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]),
    )
    const secrets = Object.keys(configSchema.shape).filter((name) => SECRET.test(name))
    expect(secrets.length).toBeGreaterThan(5)
    expect(secrets.filter((name) => !documented.has(name))).toEqual([])
  })
})
