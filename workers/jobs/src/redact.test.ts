import { describe, expect, it } from 'vitest'
import { loadConfig } from './config'
import { redact } from './redact'

describe('redact', () => {
  it('removes configured secrets, URL passwords and bearer tokens from log text', () => {
    const config = loadConfig({
      QSTASH_CURRENT_SIGNING_KEY: 'sig_current_secret_1',
      QSTASH_NEXT_SIGNING_KEY: 'sig_next_secret_2',
      ML_NODE_API_KEY: 'ml-key-42',
    })
    const text = redact(
      'failed sig_current_secret_1 ml-key-42 postgres://app:hunter2@db/x Authorization: Bearer abc.def',
      config,
    )
    expect(text).not.toMatch(/sig_current_secret_1|ml-key-42|hunter2|abc\.def/)
    expect(text).toContain('[QSTASH_CURRENT_SIGNING_KEY]')
    expect(text).toContain('postgres://app:***@db/x')
  })
})
