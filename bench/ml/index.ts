// pnpm bench:ml — embeddings throughput with dynamic batching vs. its ceiling and vs. no batching,
// and chat speed on the random-weight fixture. Prints a table, then BENCH lines.
// Everything runs on this machine over loopback; every loop is bounded in count.
import { mkdtempSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureFixtureGguf } from '../../apps/ml-node/src/chat/fixture-gguf.js'
import { FIXTURE_ID } from '../../apps/ml-node/src/chat/service.js'
import { DEV_API_KEY } from '../../apps/ml-node/src/config.js'
import { UseLiteEmbedder } from '../../apps/ml-node/src/embeddings/use-lite.js'
import { type RunningServer, startServer } from '../../apps/ml-node/src/server.js'

const CLIENTS = Number(process.env.BENCH_ML_CLIENTS ?? 64)
const BATCHED_REQUESTS = Number(process.env.BENCH_ML_REQUESTS ?? 1536)
const UNBATCHED_REQUESTS = Number(process.env.BENCH_ML_UNBATCHED_REQUESTS ?? 384)
const CHAT_TOKENS = Number(process.env.BENCH_ML_CHAT_TOKENS ?? 128)
const modelDir = mkdtempSync(join(tmpdir(), 'bench-ml-'))

const words =
  'the a quick brown fox jumps over lazy dog engineers ship reliable servers while users ask questions about billing invoices search results and weather forecasts in many cities'.split(
    ' ',
  )
/** Deterministic sentences of 8–20 words, like chat messages or short chunks. */
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

let peakRss = 0
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}, 50)

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0
}

async function load(server: RunningServer, total: number) {
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
          headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
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

async function ceiling(total: number) {
  const e = new UseLiteEmbedder()
  await e.load()
  await e.embed([sentence(0)])
  const started = performance.now()
  for (let i = 0; i < total; i += 32) {
    await e.embed(Array.from({ length: Math.min(32, total - i) }, (_, k) => sentence(i + k)))
  }
  const perS = total / ((performance.now() - started) / 1000)
  await e.close()
  return perS
}

async function chat() {
  const fixture = ensureFixtureGguf(join(modelDir, 'fixture.gguf'))
  const t0 = performance.now()
  const server = await startServer({
    PORT: 0,
    MODEL_DIR: modelDir,
    ML_NODE_TEST_CHAT_FIXTURE: fixture,
    LLAMA_GPU:
      process.env.LLAMA_GPU === 'cuda' ? 'cuda' : process.env.LLAMA_GPU === 'auto' ? 'auto' : 'off',
  })
  const coldStartMs = performance.now() - t0
  const runs: { ttft: number; tokPerS: number }[] = []
  for (let r = 0; r < 3; r++) {
    const started = performance.now()
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: FIXTURE_ID,
        messages: [{ role: 'user', content: 'Write a long story about a lighthouse keeper.' }],
        max_tokens: CHAT_TOKENS,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      }),
    })
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    let first = 0
    let buf = ''
    let tokens = 0
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buf += Buffer.from(value).toString()
      if (!first && buf.includes('"content":"') && !buf.endsWith('"content":""')) {
        if (/"content":"[^"]/.test(buf)) first = performance.now() - started
      }
      const usage = /"completion_tokens":(\d+)/.exec(buf)
      if (usage) tokens = Number(usage[1])
    }
    const total = (performance.now() - started) / 1000
    runs.push({ ttft: first, tokPerS: tokens / (total - first / 1000) })
  }
  const details = server.services.listModels().find((m) => m.id === FIXTURE_ID)?.details
  await server.close()
  return {
    coldStartMs,
    ttft: pct(
      runs.map((r) => r.ttft),
      50,
    ),
    tokPerS: pct(
      runs.map((r) => r.tokPerS),
      50,
    ),
    gpu: String(details?.gpu ?? 'cpu'),
  }
}

async function main() {
  console.log(
    `bench:ml on ${availableParallelism()} cores, ${CLIENTS} concurrent single-text clients`,
  )
  const ceil = await ceiling(BATCHED_REQUESTS)

  const batchedServer = await startServer({ PORT: 0, MODEL_DIR: modelDir, QUEUE_MAX_ITEMS: 4096 })
  await load(batchedServer, 128) // warm-up
  const batched = await load(batchedServer, BATCHED_REQUESTS)
  await batchedServer.close()

  const plainServer = await startServer({
    PORT: 0,
    MODEL_DIR: modelDir,
    BATCHING: false,
    QUEUE_MAX_ITEMS: 4096,
  })
  await load(plainServer, 32)
  const unbatched = await load(plainServer, UNBATCHED_REQUESTS)
  await plainServer.close()

  const c = await chat()
  clearInterval(rssTimer)

  const vsCeil = batched.perS / ceil
  const vsPlain = batched.perS / unbatched.perS
  console.table({
    'in-process, batches of 32 (ceiling)': { 'texts/s': ceil.toFixed(1) },
    'server, dynamic batching': {
      'texts/s': batched.perS.toFixed(1),
      'p50 ms': batched.p50.toFixed(1),
      'p99 ms': batched.p99.toFixed(1),
      errors: batched.errors,
    },
    'server, batching off': {
      'texts/s': unbatched.perS.toFixed(1),
      'p50 ms': unbatched.p50.toFixed(1),
      'p99 ms': unbatched.p99.toFixed(1),
      errors: unbatched.errors,
    },
  })
  console.log(
    `chat fixture (${c.gpu}): cold start to ready ${c.coldStartMs.toFixed(0)} ms, TTFT ${c.ttft.toFixed(1)} ms, ${c.tokPerS.toFixed(1)} tok/s`,
  )
  const f = (x: number, d = 1) => x.toFixed(d)
  console.log(
    `BENCH embeddings_batched_per_s ${f(batched.perS)} texts/s baseline=${f(unbatched.perS)} target=>=5x_unbatched`,
  )
  console.log(
    `BENCH embeddings_ceiling_per_s ${f(ceil)} texts/s baseline=${f(ceil)} target=reference`,
  )
  console.log(
    `BENCH embeddings_unbatched_per_s ${f(unbatched.perS)} texts/s baseline=${f(unbatched.perS)} target=reference`,
  )
  console.log(`BENCH embeddings_vs_ceiling ${f(vsCeil, 3)} ratio baseline=1 target=>=0.85`)
  console.log(`BENCH embeddings_vs_unbatched ${f(vsPlain, 2)} ratio baseline=1 target=>=5`)
  console.log(
    `BENCH embeddings_p50_ms ${f(batched.p50)} ms baseline=${f(unbatched.p50)} target=report`,
  )
  console.log(
    `BENCH embeddings_p99_ms ${f(batched.p99)} ms baseline=${f(unbatched.p99)} target=report`,
  )
  console.log(`BENCH ml_peak_rss_mb ${f(peakRss / 1024 / 1024, 0)} MB baseline=n/a target=report`)
  console.log(`BENCH chat_tokens_per_s ${f(c.tokPerS)} tok/s baseline=n/a target=report`)
  console.log(`BENCH chat_ttft_ms ${f(c.ttft)} ms baseline=${f(c.ttft)} target=report`)
  console.log(
    `BENCH ml_cold_start_ms ${f(c.coldStartMs, 0)} ms baseline=${f(c.coldStartMs, 0)} target=report`,
  )
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
