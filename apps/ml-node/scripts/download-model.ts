// Downloads a named model into MODEL_DIR, in the layout the ml-node discovers at start.
// NEEDS INTERNET (Hugging Face); tests never call it (they test download-plan.ts offline). Usage:
//   pnpm models:download qwen2.5-0.5b-instruct            # GGUF → MODEL_DIR/chat/<name>.gguf
//   pnpm models:download bge-small-en-v1.5 [--dtype q8]   # ONNX → MODEL_DIR/embeddings/<name>/
//   pnpm models:download ms-marco-MiniLM-L-6-v2           # → MODEL_DIR/rerankers/<name>/
//   pnpm models:download whisper-tiny.en                  # → MODEL_DIR/whisper/<name>/
//   pnpm models:download --url https://…/model.gguf --name my-model
//   pnpm models:download --repo Xenova/gte-small --task embeddings --name gte-small
//   pnpm models:download --list
// Files land in MODEL_DIR/.downloads first and move into place only when all of them arrived
// and the folder passes the node's own checks, so a half-done download is never served.
// HF_TOKEN, when set, is sent for gated repositories (never printed).
import {
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { loadConfig } from '../src/config.js'
import { inspectModelFolder } from '../src/onnx/discovery.js'
import { type DownloadPlan, planDownload, USAGE, UsageError } from './download-plan.js'
import { CATALOG } from './model-catalog.js'

async function fetchTo(url: string, out: string) {
  const headers: Record<string, string> = {}
  if (process.env.HF_TOKEN && new URL(url).hostname === 'huggingface.co') {
    headers.authorization = `Bearer ${process.env.HF_TOKEN}`
  }
  const res = await fetch(url, { redirect: 'follow', headers }).catch((err: Error) => {
    // undici says only "fetch failed"; the cause says why (DNS, refused, TLS).
    const cause = (err.cause as Error | undefined)?.message
    throw new Error(`${url}: ${err.message}${cause ? ` (${cause})` : ''}`)
  })
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`)
  mkdirSync(dirname(out), { recursive: true })
  await pipeline(Readable.fromWeb(res.body as never), createWriteStream(out))
  return statSync(out).size
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`

function isGguf(path: string) {
  const fd = openSync(path, 'r')
  try {
    const magic = Buffer.alloc(4)
    readSync(fd, magic, 0, 4, 0)
    return magic.toString('latin1') === 'GGUF'
  } finally {
    closeSync(fd)
  }
}

async function download(plan: DownloadPlan, modelDir: string) {
  if (existsSync(plan.dest) && !plan.force) {
    throw new Error(`${plan.dest} already exists (--force replaces it)`)
  }
  const staging = join(modelDir, '.downloads', `${plan.task}-${plan.name}-${process.pid}`)
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true })
  try {
    for (const f of plan.files) {
      console.log(`  ${f.url}`)
      console.log(`    ${f.path}: ${mb(await fetchTo(f.url, join(staging, f.path)))}`)
    }
    let ready = staging
    if (plan.kind === 'gguf') {
      ready = join(staging, plan.files[0]?.path as string)
      if (!isGguf(ready)) throw new Error('the file is not a GGUF (no GGUF magic)')
    } else {
      writeFileSync(join(staging, 'synthstack.json'), `${JSON.stringify(plan.meta, null, 2)}\n`)
      const check = inspectModelFolder(staging, plan.name, plan.task, staging)
      if (check.problem) throw new Error(`the downloaded folder would not load: ${check.problem}`)
    }
    mkdirSync(dirname(plan.dest), { recursive: true })
    rmSync(plan.dest, { recursive: true, force: true })
    renameSync(ready, plan.dest)
  } finally {
    rmSync(staging, { recursive: true, force: true })
    try {
      rmdirSync(dirname(staging)) // only when empty: another download may be running
    } catch {}
  }
}

async function main() {
  const modelDir = resolve(loadConfig().MODEL_DIR)
  let plan: ReturnType<typeof planDownload>
  try {
    plan = planDownload(process.argv.slice(2), modelDir)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    console.error(`models:download: ${err.message}\n\n${USAGE}`)
    process.exit(2)
  }
  if (plan === 'list') {
    for (const [name, e] of Object.entries(CATALOG)) {
      const what = e.kind === 'gguf' ? 'chat (GGUF)' : `${e.task} (ONNX, ${e.repo})`
      console.log(`${name.padEnd(24)} ${what}`)
    }
    return
  }
  console.log(`downloading ${plan.name} -> ${plan.dest}`)
  await download(plan, modelDir)
  const route =
    plan.task === 'chat'
      ? '/v1/chat/completions'
      : plan.task === 'embeddings'
        ? '/v1/embeddings'
        : plan.task === 'rerank'
          ? '/v1/rerank'
          : '/v1/audio/transcriptions'
  console.log(`done. Restart the ml-node: '${plan.name}' is served by ${route}.`)
}

main().catch((err: Error) => {
  console.error(`models:download: ${err.message}`)
  process.exit(1)
})
