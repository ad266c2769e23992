import { describe, expect, it } from 'vitest'
import { dependencyRows, formatLatency } from './dependencies'

describe('dependencyRows', () => {
  it('lists known dependencies in their order, then unknown ones by name', () => {
    const rows = dependencyRows({
      zeta: { status: 'ok' },
      vectors: { status: 'ok' },
      alpha: { status: 'error' },
      postgres: { status: 'ok' },
      'ml-node': { status: 'not_configured' },
    })
    expect(rows.map((r) => r.id)).toEqual(['postgres', 'ml-node', 'vectors', 'alpha', 'zeta'])
    expect(rows[0]).toMatchObject({ label: 'PostgreSQL', check: { status: 'ok' } })
    expect(rows[3]).toMatchObject({ label: 'alpha', purpose: '' })
  })
})

describe('formatLatency', () => {
  it('formats milliseconds for people', () => {
    expect(formatLatency(undefined)).toBe('—')
    expect(formatLatency(0.4)).toBe('<1 ms')
    expect(formatLatency(12.6)).toBe('13 ms')
    expect(formatLatency(1234)).toBe('1.23 s')
    expect(formatLatency(12_345)).toBe('12.3 s')
  })
})
