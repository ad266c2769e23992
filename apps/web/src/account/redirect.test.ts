import { describe, expect, it } from 'vitest'
import { safeRedirect } from './redirect'

describe('safeRedirect', () => {
  it('keeps paths inside the app, with query and hash', () => {
    expect(safeRedirect('/usage')).toBe('/usage')
    expect(safeRedirect('/api-keys?x=1#top')).toBe('/api-keys?x=1#top')
    expect(safeRedirect(['/members', '/usage'])).toBe('/members')
  })

  it('refuses other origins and junk', () => {
    for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example', 'usage']) {
      expect(safeRedirect(bad, '/home')).toBe('/home')
    }
    expect(safeRedirect('/\tevil')).toBe('/')
    expect(safeRedirect(undefined)).toBe('/')
    expect(safeRedirect(42)).toBe('/')
  })
})
