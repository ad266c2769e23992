import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'

describe('API documentation', () => {
  it('serves an OpenAPI 3.1 document listing /health', async () => {
    const res = await SELF.fetch('http://edge.test/openapi.json')
    expect(res.status).toBe(200)
    const doc = (await res.json()) as {
      openapi: string
      info: { title: string }
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
      servers: { url: string }[]
    }
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info.title).toBe('SynthStack Edge API')
    expect(Object.keys(doc.paths['/health'] ?? {})).toEqual(['get'])
    expect(Object.keys(doc.paths['/health']?.get?.responses ?? {}).sort()).toEqual([
      '200',
      '500',
      '503',
    ])
    expect(doc.servers[0]?.url).toBe('http://edge.test')
  })

  it('serves the interactive reference pointing at /openapi.json', async () => {
    const res = await SELF.fetch('http://edge.test/docs')
    expect(res.status).toBe(200)
    expect(res.headers.get('Content-Type')).toMatch(/text\/html/)
    const html = await res.text()
    expect(html).toContain('/openapi.json')
    expect(html).toContain('SynthStack Edge API reference')
  })
})
