import { describe, expect, it } from 'vitest'
import { ScriptShaMap, sha1hex, stripUnknownFlags } from './scripts.js'

describe('stripUnknownFlags', () => {
  it('drops flags Redis 7.0 rejects and keeps the line count', () => {
    const script = '#!lua flags=allow-key-locking\n  return 1'
    expect(stripUnknownFlags(script)).toBe('#!lua\n  return 1')
  })

  it('keeps known flags', () => {
    expect(stripUnknownFlags('#!lua flags=no-writes,allow-key-locking\nreturn 1')).toBe(
      '#!lua flags=no-writes\nreturn 1',
    )
    const known = '#!lua flags=no-writes,allow-stale\nreturn 1'
    expect(stripUnknownFlags(known)).toBe(known)
  })

  it('leaves scripts without a shebang or flags alone', () => {
    expect(stripUnknownFlags('return 1')).toBe('return 1')
    expect(stripUnknownFlags('#!lua\nreturn 1')).toBe('#!lua\nreturn 1')
  })
})

describe('ScriptShaMap', () => {
  it('maps the client SHA1 to the loaded one, case-insensitively', () => {
    const shas = new ScriptShaMap()
    const original = sha1hex('#!lua flags=allow-key-locking\nreturn 1')
    shas.remember(original, sha1hex('#!lua\nreturn 1'))
    expect(shas.resolve(original.toUpperCase())).toBe(sha1hex('#!lua\nreturn 1'))
    expect(shas.resolve('abc')).toBe('abc')
    shas.remember('same', 'same')
    expect(shas.size).toBe(1)
  })
})
