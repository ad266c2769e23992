import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createApp } from '../app.js'
import { DEV_API_KEY, loadConfig } from '../config.js'
import { createServices } from '../services.js'

// Validation runs before any model is needed: no model is loaded here.
const services = createServices(
  loadConfig({ MODEL_DIR: mkdtempSync(join(tmpdir(), 'mlnode-clf-')), MAX_INPUT_CHARS: '50' }),
)
const app = createApp(services)
afterAll(() => services.close())

const classify = async (input: unknown) => {
  const res = await app.request('/v1/classify', {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'clf_missing', input }),
  })
  return { status: res.status, body: (await res.json()) as { error: { param: string } } }
}

describe('POST /v1/classify input limits', () => {
  it('holds a single string to MAX_INPUT_CHARS, as it does each array item', async () => {
    const long = 'x'.repeat(51)
    const one = await classify(long)
    expect(one.status).toBe(400)
    expect(one.body.error.param).toBe('input')
    const many = await classify(['fine', long])
    expect(many.status).toBe(400)
    expect(many.body.error.param).toBe('input[1]')
    // Within the limit it gets as far as the model lookup.
    expect((await classify('x'.repeat(50))).status).toBe(404)
  })
})
