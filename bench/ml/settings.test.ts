import { describe, expect, it } from 'vitest'
import { readSettings } from './settings.js'

describe('readSettings', () => {
  it('has the documented defaults, the fixture and no GPU', () => {
    expect(readSettings({})).toEqual({
      clients: 64,
      batchedRequests: 1536,
      unbatchedRequests: 384,
      chatTokens: 128,
      gpu: 'off',
      chatGguf: null,
    })
  })

  it('reads every variable; BENCH_CHAT_GGUF becomes absolute', () => {
    const s = readSettings({
      BENCH_ML_CLIENTS: '8',
      BENCH_ML_REQUESTS: '100',
      BENCH_ML_UNBATCHED_REQUESTS: '50',
      BENCH_ML_CHAT_TOKENS: '256',
      LLAMA_GPU: 'cuda',
      BENCH_CHAT_GGUF: 'models/qwen.gguf',
    })
    expect(s).toMatchObject({ clients: 8, batchedRequests: 100, unbatchedRequests: 50 })
    expect(s).toMatchObject({ chatTokens: 256, gpu: 'cuda' })
    expect(s.chatGguf).toBe(`${process.cwd()}/models/qwen.gguf`)
  })

  it.each([
    ['BENCH_ML_CLIENTS', 'abc'],
    ['BENCH_ML_CLIENTS', '0'],
    ['BENCH_ML_REQUESTS', '1.5'],
    ['BENCH_ML_UNBATCHED_REQUESTS', '-3'],
    ['BENCH_ML_CHAT_TOKENS', '4096'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(() => readSettings({ [name]: value })).toThrow(new RegExp(`^${name} must be`))
  })

  it('refuses an unknown LLAMA_GPU instead of quietly running on the CPU', () => {
    expect(() => readSettings({ LLAMA_GPU: 'CUDA' })).toThrow(/^LLAMA_GPU must be/)
  })
})
