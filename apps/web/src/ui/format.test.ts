import { describe, expect, it } from 'vitest'
import { formatDate, formatMonth, formatRelative, formatWait } from './format'

describe('format', () => {
  it('formats waits in words', () => {
    expect(formatWait(1)).toBe('1 second')
    expect(formatWait(59)).toBe('59 seconds')
    expect(formatWait(61)).toBe('2 minutes')
    expect(formatWait(900)).toBe('15 minutes')
    expect(formatWait(3600)).toBe('1 hour')
    expect(formatWait(3900)).toBe('1 hour 5 minutes')
  })

  it('formats relative times and missing values', () => {
    const now = Date.parse('2026-05-10T12:00:00Z')
    expect(formatRelative(null, now)).toBe('Never')
    expect(formatRelative('2026-05-10T11:59:40Z', now)).toBe('just now')
    expect(formatRelative('2026-05-10T11:55:00Z', now)).toBe('5 minutes ago')
    expect(formatRelative('2026-05-07T12:00:00Z', now)).toBe('3 days ago')
    expect(formatRelative('nonsense', now)).toBe('—')
    expect(formatDate(null)).toBe('—')
    expect(formatMonth('2026-05')).toMatch(/2026/)
    expect(formatMonth('junk')).toBe('junk')
    expect(formatDate('2026-05-03T10:00:00Z')).toMatch(/2026/)
  })
})
