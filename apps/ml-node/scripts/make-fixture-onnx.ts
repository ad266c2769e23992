// Builds the tiny random-weight ONNX fixtures (a BERT-shaped embedder, a cross-encoder and a
// Whisper-shaped encoder-decoder) used by the ONNX tests. They are FIXTURES, not models: their
// outputs mean nothing.
// Usage: pnpm fixture:onnx [dir]; serve them with ML_NODE_TEST_ONNX_FIXTURES=<dir> (tests only).
import { resolve } from 'node:path'
import { ensureOnnxFixtures } from '../src/onnx/fixture-onnx.js'

const out = resolve(process.argv[2] ?? '.data/fixtures/onnx')
console.log(ensureOnnxFixtures(out))
