// Downloads a named GGUF chat model into MODEL_DIR/chat/. NEEDS INTERNET (Hugging Face);
// tests never call it. Usage:
//   pnpm models:download qwen2.5-0.5b-instruct
//   pnpm models:download --url https://…/model.gguf --name my-model
import { createWriteStream, mkdirSync, renameSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { loadConfig } from '../src/config.js'

const CATALOG: Record<string, { url: string; license: string }> = {
  'qwen2.5-0.5b-instruct': {
    url: 'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf',
    license: 'Apache-2.0',
  },
  'qwen2.5-1.5b-instruct': {
    url: 'https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/main/qwen2.5-1.5b-instruct-q4_k_m.gguf',
    license: 'Apache-2.0',
  },
  'llama-3.2-1b-instruct': {
    url: 'https://huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/main/Llama-3.2-1B-Instruct-Q4_K_M.gguf',
    license: 'Llama 3.2 Community License',
  },
}

async function main() {
  const args = process.argv.slice(2)
  const urlAt = args.indexOf('--url')
  const nameAt = args.indexOf('--name')
  const name = nameAt >= 0 ? args[nameAt + 1] : args[0]
  const url = urlAt >= 0 ? args[urlAt + 1] : name ? CATALOG[name]?.url : undefined
  if (!name || !url) {
    console.error(
      `usage: models:download <${Object.keys(CATALOG).join('|')}> | --url URL --name NAME`,
    )
    process.exit(2)
  }
  const dir = join(resolve(loadConfig().MODEL_DIR), 'chat')
  mkdirSync(dir, { recursive: true })
  const out = join(dir, `${name}.gguf`)
  console.log(`downloading ${url}\n  -> ${out}`)
  const res = await fetch(url, { redirect: 'follow' })
  if (!res.ok || !res.body) throw new Error(`download failed: HTTP ${res.status}`)
  await pipeline(Readable.fromWeb(res.body as never), createWriteStream(`${out}.part`))
  renameSync(`${out}.part`, out)
  console.log(`done. Restart the ml-node: '${name}' is served by /v1/chat/completions.`)
}

main().catch((err: Error) => {
  console.error(`models:download: ${err.message}`)
  process.exit(1)
})
