import { describe, expect, it } from 'vitest'
import { DEFAULT_API_URL, normaliseBaseUrl } from './config'

describe('normaliseBaseUrl', () => {
  it('defaults when unset or blank, and drops trailing slashes', () => {
    expect(normaliseBaseUrl(undefined)).toBe(DEFAULT_API_URL)
    expect(normaliseBaseUrl('  ')).toBe(DEFAULT_API_URL)
    expect(normaliseBaseUrl('https://api.example.com//')).toBe('https://api.example.com')
    expect(normaliseBaseUrl(' https://api.example.com/edge/ ')).toBe('https://api.example.com/edge')
  })
})
