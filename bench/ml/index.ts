// pnpm bench:ml — embeddings throughput with dynamic batching vs. its ceiling and vs. no batching,
// and chat speed, over HTTP vs. the same GGUF in-process. Prints a table, then BENCH lines.
//
// Variables (checked at start, settings.ts):
//   BENCH_CHAT_GGUF=/path/model.gguf  chat phase on this GGUF (served as MODEL_DIR/chat/<id>.gguf,
//                                     and opened by the in-process baseline); default: the
//                                     random-weight fixture. The chat lines name the model.
//   LLAMA_GPU=off|auto|cuda|vulkan    llama.cpp backend for both chat sides (default off)
//   BENCH_ML_CLIENTS (64), BENCH_ML_REQUESTS (1536), BENCH_ML_UNBATCHED_REQUESTS (384),
//   BENCH_ML_CHAT_TOKENS (128)
// The servers see none of the shell's ml-node variables (server-process.ts, serverEnv).
// The ml-node runs as production runs it: a separate CLI process configured by environment
// variables; this process only drives the clients and the in-process baselines. Everything runs on
// this machine over loopback; every loop is bounded in count.
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { UseLiteEmbedder } from '../../apps/ml-node/src/embeddings/use-lite.js'
import { type InProcessChat, openInProcessChat } from './chat-baseline.js'
import { type ChatModel, prepareChatModel } from './chat-model.js'
import { type ServerProcess, startBareNode, startMlNode } from './server-process.js'
import { CHAT_CONTEXT, readSettings, SettingsError } from './settings.js'

let settings: ReturnType<typeof readSettings>
try {
  settings = readSettings()
} catch (err) {
  if (!(err instanceof SettingsError)) throw err
  console.error(`bench:ml: ${err.message}`)
  process.exit(2)
}
const {
  clients: CLIENTS,
  batchedRequests: BATCHED_REQUESTS,
  unbatchedRequests: UNBATCHED_REQUESTS,
  chatTokens: CHAT_TOKENS,
  gpu: GPU,
} = settings
const CHAT_RUNS = 5
const CHAT_PROMPT = 'Write a long story about a lighthouse keeper.'
const THREADS = availableParallelism()
const TOKEN = randomBytes(24).toString('hex')
// One MODEL_DIR for the embeddings servers (empty: the built-in models only), one for the chat
// server (the measured GGUF only).
const workDir = mkdtempSync(join(tmpdir(), 'bench-ml-'))
const embedModelDir = join(workDir, 'embeddings-node')
const chatModelDir = join(workDir, 'chat-node')
mkdirSync(embedModelDir)
mkdirSync(chatModelDir)

const words =
  'the a quick brown fox jumps over lazy dog engineers ship reliable servers while users ask questions about billing invoices search results and weather forecasts in many cities'.split(
    ' ',
  )
/** Deterministic sentences of 8–20 words (~18 USE-lite tokens), like chat messages or queries. */
function sentence(i: number) {
  let x = (i * 2654435761) >>> 0
  const n = 8 + (x % 13)
  const out: string[] = []
  for (let k = 0; k < n; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    out.push(words[x % words.length] as string)
  }
  return out.join(' ')
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0
}
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
/**
 * The servers' environment: a real token and the settings the baselines share, spelled out;
 * nothing inherited that changes what is measured (serverEnv in server-process.ts).
 */
const baseEnv = {
  ML_NODE_API_KEYS: TOKEN,
  NODE_ENV: 'production',
  MODEL_DIR: embedModelDir,
  LLAMA_GPU: GPU,
  LLAMA_THREADS: String(THREADS),
  LLAMA_CONTEXT_SIZE: String(CHAT_CONTEXT),
  CHAT_MAX_TOKENS: String(CHAT_TOKENS),
  LOG_REQUESTS: 'false',
}

/** CLIENTS single-text clients, each sending its next request when the last one answered. */
async function load(server: ServerProcess, total: number) {
  let next = 0
  const lat: number[] = []
  let errors = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < total) {
        const i = next++
        const t = performance.now()
        const res = await fetch(`${server.url}/v1/embeddings`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({
            model: 'use-lite-512',
            input: sentence(i),
            encoding_format: 'base64',
          }),
        })
        await res.arrayBuffer()
        if (res.status === 200) lat.push(performance.now() - t)
        else errors++
      }
    }),
  )
  const s = (performance.now() - started) / 1000
  return { perS: lat.length / s, p50: pct(lat, 50), p99: pct(lat, 99), errors }
}

/** The model alone, in this process, in fixed batches: what no server can beat. */
async function inProcess(total: number, batch: number) {
  const e = new UseLiteEmbedder()
  await e.load()
  await e.embed(Array.from({ length: batch }, (_, k) => sentence(k)))
  const started = performance.now()
  for (let i = 0; i < total; i += batch) {
    await e.embed(Array.from({ length: Math.min(batch, total - i) }, (_, k) => sentence(i + k)))
  }
  const perS = total / ((performance.now() - started) / 1000)
  await e.close()
  return perS
}

/** One streamed chat request; TTFT = until the first non-empty content delta. */
async function chatOverHttp(server: ServerProcess, model: string) {
  const started = performance.now()
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({
      model,
      messages: [{ role: 'user', content: CHAT_PROMPT }],
      max_tokens: CHAT_TOKENS,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    }),
  })
  if (res.status !== 200) throw new Error(`chat answered ${res.status}: ${await res.text()}`)
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  let first = 0
  let buf = ''
  let tokens = 0
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    buf += Buffer.from(value).toString()
    if (!first && /"content":"[^"]/.test(buf)) first = performance.now() - started
    const usage = /"completion_tokens":(\d+)/.exec(buf)
    if (usage) tokens = Number(usage[1])
  }
  const total = (performance.now() - started) / 1000
  return { ttftMs: first, tokPerS: tokens / (total - first / 1000) }
}

/** Server and in-process runs take turns, so both see the same machine (2 shared cores). */
async function chat(server: ServerProcess, direct: InProcessChat, model: string) {
  const http: { ttftMs: number; tokPerS: number }[] = []
  const local: { ttftMs: number; tokPerS: number }[] = []
  await chatOverHttp(server, model) // warm-up, both sides
  await direct.run()
  for (let r = 0; r < CHAT_RUNS; r++) {
    http.push(await chatOverHttp(server, model))
    local.push(await direct.run())
  }
  const models = (await (await fetch(`${server.url}/v1/models`, { headers: auth })).json()) as {
    data: { id: string; details?: { gpu?: string } }[]
  }
  const med = (xs: { ttftMs: number; tokPerS: number }[]) => ({
    ttft: pct(
      xs.map((x) => x.ttftMs),
      50,
    ),
    tokPerS: pct(
      xs.map((x) => x.tokPerS),
      50,
    ),
  })
  return {
    server: med(http),
    direct: med(local),
    gpu: String(models.data.find((m) => m.id === model)?.details?.gpu ?? 'cpu'),
  }
}

async function main() {
  // First, so that a bad BENCH_CHAT_GGUF stops the run before minutes of embeddings.
  const chatModel: ChatModel = await prepareChatModel(chatModelDir, settings.chatGguf)
  console.log(
    `bench:ml on ${THREADS} cores, ${CLIENTS} concurrent single-text clients, ml-node as a CLI process; chat model ${chatModel.label}`,
  )
  // The ceiling is the best the model alone does: measured before and after the servers (the
  // machine's other load comes and goes), the higher of the two counts.
  const ceilBefore = await inProcess(BATCHED_REQUESTS, 32)
  const batch1Before = await inProcess(UNBATCHED_REQUESTS, 1)

  const bare = await startBareNode()
  const bareRss = bare.peakRssMb()
  await bare.stop()

  const batchedServer = await startMlNode({ ...baseEnv, QUEUE_MAX_ITEMS: '4096' })
  await load(batchedServer, 128) // warm-up
  const batched = await load(batchedServer, BATCHED_REQUESTS)
  const batchedRss = batchedServer.peakRssMb()
  await batchedServer.stop()

  const plainServer = await startMlNode({ ...baseEnv, BATCHING: 'false', QUEUE_MAX_ITEMS: '4096' })
  await load(plainServer, 32)
  const unbatched = await load(plainServer, UNBATCHED_REQUESTS)
  const plainRss = plainServer.peakRssMb()
  await plainServer.stop()

  const ceil = Math.max(ceilBefore, await inProcess(BATCHED_REQUESTS, 32))
  const batch1 = Math.max(batch1Before, await inProcess(UNBATCHED_REQUESTS, 1))

  // Real weights can take a while to load (and, on a GPU, to upload).
  const chatServer = await startMlNode(
    { ...baseEnv, MODEL_DIR: chatModelDir, ...chatModel.env },
    chatModel.fixture ? 120_000 : 300_000,
  )
  const direct = await openInProcessChat({
    modelPath: chatModel.path,
    prompt: CHAT_PROMPT,
    maxTokens: CHAT_TOKENS,
    threads: THREADS,
    contextSize: CHAT_CONTEXT,
    gpu: GPU === 'off' ? false : GPU,
  })
  const c = await chat(chatServer, direct, chatModel.id)
  const chatRss = chatServer.peakRssMb()
  await chatServer.stop()
  await direct.close()

  const rss = [batchedRss, plainRss, chatRss].filter((x): x is number => x !== null)
  const peakRss = rss.length > 0 ? Math.max(...rss) : null
  const vsCeil = batched.perS / ceil
  const vsPlain = batched.perS / unbatched.perS
  const mb = (x: number | null) => (x === null ? 'n/a' : x.toFixed(0))
  console.table({
    'in-process, batches of 32 (ceiling)': { 'texts/s': ceil.toFixed(1) },
    'in-process, batches of 1': { 'texts/s': batch1.toFixed(1) },
    'server, dynamic batching': {
      'texts/s': batched.perS.toFixed(1),
      'p50 ms': batched.p50.toFixed(1),
      'p99 ms': batched.p99.toFixed(1),
      errors: batched.errors,
      'cold start ms': batchedServer.coldStartMs.toFixed(0),
      'peak RSS MB': mb(batchedRss),
    },
    'server, batching off': {
      'texts/s': unbatched.perS.toFixed(1),
      'p50 ms': unbatched.p50.toFixed(1),
      'p99 ms': unbatched.p99.toFixed(1),
      errors: unbatched.errors,
      'cold start ms': plainServer.coldStartMs.toFixed(0),
      'peak RSS MB': mb(plainRss),
    },
    [`server + chat ${chatModel.id}`]: {
      'cold start ms': chatServer.coldStartMs.toFixed(0),
      'peak RSS MB': mb(chatRss),
    },
    'bare node + tsx, /readyz only': {
      'cold start ms': bare.coldStartMs.toFixed(0),
      'peak RSS MB': mb(bareRss),
    },
  })
  console.log(
    `chat ${chatModel.label} (${c.gpu}), ${THREADS} threads, median of ${CHAT_RUNS}: over HTTP TTFT ${c.server.ttft.toFixed(1)} ms, ${c.server.tokPerS.toFixed(1)} tok/s; ` +
      `in-process node-llama-cpp (${direct.gpu}) TTFT ${c.direct.ttft.toFixed(1)} ms, ${c.direct.tokPerS.toFixed(1)} tok/s`,
  )
  const f = (x: number, d = 1) => x.toFixed(d)
  console.log(
    `BENCH embeddings_batched_per_s ${f(batched.perS)} texts/s baseline=${f(unbatched.perS)} target=>=5x_unbatched`,
  )
  console.log(
    `BENCH embeddings_ceiling_per_s ${f(ceil)} texts/s baseline=${f(batch1)} target=reference`,
  )
  console.log(
    `BENCH embeddings_unbatched_per_s ${f(unbatched.perS)} texts/s baseline=${f(batch1)} target=reference`,
  )
  console.log(`BENCH embeddings_vs_ceiling ${f(vsCeil, 3)} ratio baseline=1 target=>=0.85`)
  console.log(
    `BENCH embeddings_vs_unbatched ${f(vsPlain, 2)} ratio baseline=${f(ceil / batch1, 2)} target=>=5`,
  )
  console.log(
    `BENCH embeddings_p50_ms ${f(batched.p50)} ms baseline=${f(unbatched.p50)} target=report`,
  )
  console.log(
    `BENCH embeddings_p99_ms ${f(batched.p99)} ms baseline=${f(unbatched.p99)} target=report`,
  )
  console.log(`BENCH ml_peak_rss_mb ${mb(peakRss)} MB baseline=${mb(bareRss)} target=report`)
  console.log(
    `BENCH chat_tokens_per_s ${f(c.server.tokPerS)} tok/s baseline=${f(c.direct.tokPerS)} target=report`,
  )
  console.log(
    `BENCH chat_ttft_ms ${f(c.server.ttft)} ms baseline=${f(c.direct.ttft)} target=report`,
  )
  console.log(
    `BENCH ml_cold_start_ms ${f(chatServer.coldStartMs, 0)} ms baseline=${f(bare.coldStartMs, 0)} target=report`,
  )
}

main()
  .finally(() => rmSync(workDir, { recursive: true, force: true }))
  .then(
    () => process.exit(0),
    (err) => {
      console.error(err instanceof SettingsError ? `bench:ml: ${err.message}` : err)
      process.exit(err instanceof SettingsError ? 2 : 1)
    },
  )
