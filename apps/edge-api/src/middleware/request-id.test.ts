import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'

describe('X-Request-Id', () => {
  it('is generated for every response, unique per request', async () => {
    const [a, b] = await Promise.all([
      SELF.fetch('http://edge.test/openapi.json'),
      SELF.fetch('http://edge.test/missing'),
    ])
    const idA = a.headers.get('X-Request-Id')
    const idB = b.headers.get('X-Request-Id')
    expect(idA).toMatch(/^req_[0-9a-f]{32}$/)
    expect(idB).toMatch(/^req_[0-9a-f]{32}$/)
    expect(idA).not.toBe(idB)
    await Promise.all([a.body?.cancel(), b.body?.cancel()])
  })

  it('keeps a well-formed caller id and replaces a malformed one', async () => {
    const kept = await SELF.fetch('http://edge.test/missing', {
      headers: { 'X-Request-Id': 'trace-0123456789abcdef' },
    })
    expect(kept.headers.get('X-Request-Id')).toBe('trace-0123456789abcdef')
    expect(((await kept.json()) as { error: { request_id: string } }).error.request_id).toBe(
      'trace-0123456789abcdef',
    )
    const replaced = await SELF.fetch('http://edge.test/missing', {
      headers: { 'X-Request-Id': '<script>alert(1)</script>' },
    })
    expect(replaced.headers.get('X-Request-Id')).toMatch(/^req_/)
    await replaced.body?.cancel()
  })
})
