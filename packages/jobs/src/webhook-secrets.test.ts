import { describe, expect, it } from 'vitest'
import { newWebhookSecret, openSecret, sealSecret } from './webhook-secrets'

describe('webhook secrets at rest', () => {
  it('round-trip under the same key, never in clear, and fail under another key', async () => {
    const secret = newWebhookSecret()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    const sealed = await sealSecret('k'.repeat(32), secret)
    expect(sealed).toMatch(/^v1\./)
    expect(sealed).not.toContain(secret.slice(6))
    expect(await openSecret('k'.repeat(32), sealed)).toBe(secret)
    await expect(openSecret('x'.repeat(32), sealed)).rejects.toThrow()
    await expect(openSecret('k'.repeat(32), 'v2.a.b')).rejects.toThrow(/format/)
  })
})
