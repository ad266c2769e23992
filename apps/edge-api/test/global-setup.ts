import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer } from '@synthstack/ml-node/src/server.js'
import { startTestStack } from '@synthstack/testing'
import type { TestProject } from 'vitest/node'

/**
 * Node side: starts the emulators (backends from `*_EMULATOR_*` variables, embedded by default),
 * applies migrations, starts a real ml-node (CPU, embeddings) with its own bearer token, and
 * hands the Worker bindings to the workerd pool via `provide`.
 */
export default async function setup(project: TestProject) {
  const modelDir = mkdtempSync(join(tmpdir(), 'edge-ml-'))
  const mlKey = `edge-test-${crypto.randomUUID()}`
  const [stack, ml] = await Promise.all([
    startTestStack(),
    startServer(
      { PORT: 0, HOST: '127.0.0.1', MODEL_DIR: modelDir },
      { env: { ML_NODE_API_KEYS: mlKey } },
    ),
  ])
  project.provide('stackEnv', { ...stack.env, ML_NODE_URL: ml.url, ML_NODE_API_KEY: mlKey })
  return async () => {
    await Promise.allSettled([stack.close(), ml.close()])
    rmSync(modelDir, { recursive: true, force: true })
  }
}
