import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../config.js'
import { UseLiteEmbedder } from '../embeddings/use-lite.js'
import { createServices, type Services } from '../services.js'

let svc: Services | undefined
afterEach(async () => {
  await svc?.close()
  svc = undefined
  vi.restoreAllMocks()
})

const cosine = () => svc?.rerank.list().find((m) => m.id === 'use-lite-512-cosine')

describe('use-lite-512-cosine card', () => {
  it('follows use-lite-512: failed with its error while it is, ready once it reloads', async () => {
    svc = createServices(
      loadConfig({
        MODEL_DIR: mkdtempSync(join(tmpdir(), 'mlnode-cosine-')),
        MODEL_LOAD_RETRY_MS: '100',
        MODEL_LOAD_RETRY_MAX_MS: '100',
      }),
    )
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    // The first load fails; the background retry runs the real one.
    vi.spyOn(UseLiteEmbedder.prototype, 'load').mockRejectedValueOnce(new Error('disk on fire'))
    await svc.embeddings.start()
    expect(cosine()).toMatchObject({
      status: 'failed',
      details: { uses: 'use-lite-512', error: 'runs on use-lite-512: disk on fire' },
    })
    const listed = svc.listModels().find((m) => m.id === 'use-lite-512-cosine')
    expect(listed?.status).toBe('failed')
    const deadline = Date.now() + 30_000
    while (!svc.embeddings.isReady() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(svc.embeddings.isReady()).toBe(true)
    expect(cosine()?.status).toBe('ready')
    expect(cosine()?.details?.error).toBeUndefined()
  })
})
