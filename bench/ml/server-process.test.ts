import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { serverEnv, startBareNode, startMlNode } from './server-process.js'

describe('serverEnv', () => {
  it('keeps what Node and CUDA need, drops ml-node settings from the shell', () => {
    const env = serverEnv(
      { MODEL_DIR: '/m', LLAMA_GPU: 'off' },
      {
        PATH: '/usr/bin',
        HOME: '/root',
        TMPDIR: '/tmp',
        LD_LIBRARY_PATH: '/usr/local/cuda/lib64',
        CUDA_VISIBLE_DEVICES: '0',
        NODE_OPTIONS: undefined,
        BATCH_MAX_SIZE: '4',
        CHAT_MAX_CONCURRENT: '8',
        LLAMA_GPU: 'cuda',
        MODEL_REGISTRY: '/elsewhere.json',
        ML_NODE_API_KEYS: 'a-stray-key-of-the-shell',
      },
    )
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
      TMPDIR: '/tmp',
      LD_LIBRARY_PATH: '/usr/local/cuda/lib64',
      CUDA_VISIBLE_DEVICES: '0',
      MODEL_DIR: '/m',
      LLAMA_GPU: 'off',
    })
  })
})

describe('startBareNode', () => {
  it('starts a process that answers, and stops it', async () => {
    const p = await startBareNode()
    expect((await fetch(`${p.url}/readyz`)).status).toBe(200)
    expect(p.coldStartMs).toBeGreaterThan(0)
    await p.stop()
    await expect(fetch(`${p.url}/readyz`)).rejects.toThrow()
  })
})

describe('startMlNode', () => {
  it('does not hand the shell’s ml-node variables to the server', async () => {
    // Inherited, this would stop the server at start-up: the file it names does not exist.
    process.env.MODEL_REGISTRY = '/nonexistent/registry.json'
    const modelDir = mkdtempSync(join(tmpdir(), 'bench-server-env-'))
    try {
      const p = await startMlNode({ MODEL_DIR: modelDir, ML_NODE_API_KEYS: 'k'.repeat(32) })
      const res = await fetch(`${p.url}/v1/models`, {
        headers: { authorization: `Bearer ${'k'.repeat(32)}` },
      })
      expect(res.status).toBe(200)
      await p.stop()
    } finally {
      delete process.env.MODEL_REGISTRY
      rmSync(modelDir, { recursive: true, force: true })
    }
  }, 120_000)
})
