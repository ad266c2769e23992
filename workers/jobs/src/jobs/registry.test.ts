import { JOB_TYPES, listJobTypes } from '@synthstack/jobs'
import { describe, expect, it } from 'vitest'
import { getRegistry } from './registry'

describe('job registry', () => {
  it('has a handler for every shared job type, and nothing else', () => {
    expect(getRegistry(true).types()).toEqual(JOB_TYPES.map((s) => s.type).sort())
    expect(getRegistry(false).types()).toEqual(listJobTypes(false))
  })

  it('uses the shared payload schemas', () => {
    for (const spec of JOB_TYPES)
      expect(getRegistry(true).get(spec.type)?.payload).toBe(spec.payload)
  })
})
