import { copyFileSync, lstatSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { discoverGgufModels } from '../../apps/ml-node/src/chat/discovery.js'
import { FIXTURE_ID } from '../../apps/ml-node/src/chat/service.js'
import { loadConfig } from '../../apps/ml-node/src/config.js'
import { openInProcessChat } from './chat-baseline.js'
import { chatModelId, prepareChatModel } from './chat-model.js'
import { startMlNode } from './server-process.js'

const dir = mkdtempSync(join(tmpdir(), 'bench-chat-model-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const fresh = (name: string) => mkdtempSync(join(dir, `${name}-`))
/** What the ml-node would serve from that MODEL_DIR with those variables. */
const served = (modelDir: string, env: Record<string, string>) =>
  discoverGgufModels(loadConfig({ MODEL_DIR: modelDir, ...env }))

describe('prepareChatModel', () => {
  it('defaults to the fixture, which the server lists under its id', async () => {
    const m = await prepareChatModel(fresh('fixture'), null)
    expect(m).toMatchObject({ id: FIXTURE_ID, fixture: true })
    expect(m.label).toMatch(/random-weight fixture/)
    const models = served(join(m.path, '..'), m.env)
    expect(models.map((x) => [x.id, x.path])).toEqual([[FIXTURE_ID, m.path]])
  })

  it('serves BENCH_CHAT_GGUF under MODEL_DIR/chat, the same file the baseline opens', async () => {
    const src = await prepareChatModel(fresh('src'), null)
    const gguf = join(dir, 'My Model Q4.gguf')
    copyFileSync(src.path, gguf)
    const modelDir = fresh('real')
    const m = await prepareChatModel(modelDir, gguf)
    expect(m).toMatchObject({ id: 'My-Model-Q4', path: gguf, fixture: false, env: {} })
    expect(m.label).toMatch(/^My-Model-Q4 \(My Model Q4\.gguf, 0\.\d\d GiB\)$/)
    const models = served(modelDir, m.env)
    expect(models.map((x) => x.id)).toEqual(['My-Model-Q4'])
    const link = models[0]?.path as string
    expect(lstatSync(link).isSymbolicLink()).toBe(true) // not a copy of gigabytes
    expect(realpathSync(link)).toBe(realpathSync(gguf))
  })

  it('the ml-node CLI serves it by that id, and the baseline runs the same file', async () => {
    const src = await prepareChatModel(fresh('src2'), null)
    const gguf = join(dir, 'weights.gguf')
    copyFileSync(src.path, gguf)
    const modelDir = fresh('served')
    const m = await prepareChatModel(modelDir, gguf)
    const key = 'k'.repeat(32)
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
    const server = await startMlNode({
      ML_NODE_API_KEYS: key,
      MODEL_DIR: modelDir,
      LLAMA_GPU: 'off',
      ...m.env,
    })
    try {
      const models = (await (await fetch(`${server.url}/v1/models`, { headers })).json()) as {
        data: { id: string; status?: string; kind?: string }[]
      }
      const card = models.data.find((x) => x.id === m.id)
      expect(card).toMatchObject({ status: 'ready', kind: 'generative LLM (GGUF)' })
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          model: m.id,
          messages: [{ role: 'user', content: 'hi' }],
          max_tokens: 4,
        }),
      })
      expect(res.status).toBe(200)
      expect(((await res.json()) as { model: string }).model).toBe(m.id)
    } finally {
      await server.stop()
    }
    const direct = await openInProcessChat({
      modelPath: m.path,
      prompt: 'hi',
      maxTokens: 4,
      threads: 2,
      contextSize: 256,
      gpu: false,
    })
    try {
      expect((await direct.run()).tokPerS).toBeGreaterThan(0)
    } finally {
      await direct.close()
    }
  }, 120_000)

  it('stops with BENCH_CHAT_GGUF named for a missing file, a folder, or not a GGUF', async () => {
    const txt = join(dir, 'notes.gguf')
    writeFileSync(txt, 'these are not weights, just a text file of some length')
    await expect(prepareChatModel(fresh('a'), join(dir, 'nope.gguf'))).rejects.toThrow(
      /^BENCH_CHAT_GGUF \(.*nope\.gguf\): no such file$/,
    )
    await expect(prepareChatModel(fresh('b'), dir)).rejects.toThrow(/: not a file$/)
    await expect(prepareChatModel(fresh('c'), txt)).rejects.toThrow(
      /^BENCH_CHAT_GGUF \(.*notes\.gguf\): not a GGUF file \(bad magic\)$/,
    )
  })
})

describe('chatModelId', () => {
  it('gives an id without spaces or a leading dot', () => {
    expect(chatModelId('/m/qwen2.5-0.5b-instruct-q4_k_m.gguf')).toBe('qwen2.5-0.5b-instruct-q4_k_m')
    expect(chatModelId('/m/.hidden model.GGUF')).toBe('hidden-model')
    expect(chatModelId('/m/.gguf')).toBe('model')
  })
})
