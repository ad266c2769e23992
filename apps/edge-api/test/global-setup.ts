import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureOnnxFixtures, FIXTURE_EMBEDDER } from '@synthstack/ml-node/src/onnx/fixture-onnx.js'
import { startServer } from '@synthstack/ml-node/src/server.js'
import { startTestStack } from '@synthstack/testing'
import type { TestProject } from 'vitest/node'

/**
 * Node side: starts the emulators (backends from `*_EMULATOR_*` variables, embedded by default),
 * applies migrations, starts a real ml-node (CPU, embeddings) with its own bearer token, and
 * hands the Worker bindings to the workerd pool via `provide`. Besides USE-lite the node serves
 * `asymmetric-fixture`: the ml-node's random-weight ONNX embedder with query and passage
 * prefixes, so tests can see that `input_type` reaches it.
 */
export default async function setup(project: TestProject) {
  const modelDir = mkdtempSync(join(tmpdir(), 'edge-ml-'))
  const fixtures = ensureOnnxFixtures(join(modelDir, 'fixtures'))
  cpSync(join(fixtures, 'embeddings', FIXTURE_EMBEDDER), join(modelDir, 'asymmetric'), {
    recursive: true,
  })
  writeFileSync(
    join(modelDir, 'registry.json'),
    JSON.stringify({
      models: [
        {
          id: 'asymmetric-fixture',
          task: 'embeddings',
          path: 'asymmetric',
          queryPrefix: 'query: ',
          passagePrefix: 'passage: ',
        },
      ],
    }),
  )
  const mlKey = `edge-test-${crypto.randomUUID()}`
  const [stack, ml] = await Promise.all([
    startTestStack(),
    startServer(
      {
        PORT: 0,
        HOST: '127.0.0.1',
        MODEL_DIR: modelDir,
        ML_NODE_TEST_ONNX_FIXTURES: fixtures,
        ONNX_DEVICE: 'cpu',
        ONNX_THREADS: 1,
      },
      { env: { ML_NODE_API_KEYS: mlKey } },
    ),
  ])
  project.provide('stackEnv', { ...stack.env, ML_NODE_URL: ml.url, ML_NODE_API_KEY: mlKey })
  return async () => {
    await Promise.allSettled([stack.close(), ml.close()])
    rmSync(modelDir, { recursive: true, force: true })
  }
}
