// Builds the tiny random-weight GGUF used by the chat tests and the chat benchmark.
// It is a FIXTURE, not a model: it produces gibberish. Usage: pnpm fixture:gguf [out.gguf]
import { resolve } from 'node:path'
import { ensureFixtureGguf } from '../src/chat/fixture-gguf.js'

const out = resolve(process.argv[2] ?? '.data/fixtures/tiny-random-llama.gguf')
console.log(ensureFixtureGguf(out))
