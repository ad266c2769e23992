import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChatWrapper } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../config.js'
import { createMetrics } from '../metrics.js'
import { ModelCatalog } from '../models/catalog.js'
import { buildFixtureGguf, extractVocab } from './fixture-gguf.js'
import { ChatService, FIXTURE_ID } from './service.js'

let dir: string
let chat: ChatService

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlnode-chat-svc-'))
  // Random weights with Phi-3's vocabulary, which carries a Jinja chat template as real GGUFs do.
  const path = join(dir, 'templated.gguf')
  writeFileSync(path, buildFixtureGguf(extractVocab('ggml-vocab-phi-3.gguf')))
  const config = loadConfig({
    MODEL_DIR: dir,
    ML_NODE_TEST_CHAT_FIXTURE: path,
    LLAMA_THREADS: '1',
    LLAMA_CONTEXT_SIZE: '512',
    LLAMA_GPU: 'off',
  })
  chat = new ChatService(config, createMetrics(), new ModelCatalog(config, []))
  await chat.start()
})
afterAll(async () => {
  await chat?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('ChatService with a GGUF that has a Jinja chat template', () => {
  it('resolves the chat wrapper once at load, not on every request', async () => {
    const generate = async () => {
      const lease = await chat.acquire(FIXTURE_ID)
      try {
        const r = await chat.generate(lease.entry, [{ role: 'user', content: 'Say hello.' }], {
          maxTokens: 1,
          temperature: 0,
          stop: [],
          signal: new AbortController().signal,
        })
        return { r, entry: lease.entry }
      } finally {
        lease.release()
      }
    }
    const first = await generate()
    const entry = first.entry
    // The template itself is what prompts are rendered with.
    expect(entry.chatWrapper?.wrapperName).toBe('JinjaTemplate')
    // Later requests render with that same object: LlamaChat's 'auto' would resolve (and render
    // test chats through the template, hundreds of ms here) a new one on every construction.
    const wrapper = entry.chatWrapper as ChatWrapper
    const rendered = vi.spyOn(wrapper, 'generateContextState')
    const runs = [first, await generate(), await generate()]
    expect(rendered).toHaveBeenCalledTimes(2)
    expect(entry.chatWrapper).toBe(wrapper)
    for (const { r } of runs) {
      expect(r.promptTokens).toBeGreaterThan(0)
      expect(r.completionTokens).toBe(1)
    }
  })
})
