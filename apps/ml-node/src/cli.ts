import { ConfigError } from './config.js'
import { PortInUseError, startServer } from './server.js'

async function main() {
  const started = performance.now()
  const server = await startServer({}, { waitReady: false })
  const { config } = server.services
  console.log(
    `[ml-node] listening on ${server.url} (threads=${config.threads}, MODEL_DIR=${config.MODEL_DIR})`,
  )
  const registry = server.services.catalog.summary()
  if (registry) console.log(`[ml-node] ${registry}`)
  if (config.usingDevKey) {
    console.warn('[ml-node] ML_NODE_API_KEYS is not set: using the development token (see README)')
  }
  server.services.start().then(
    () => {
      const ms = Math.round(performance.now() - started)
      console.log(
        `[ml-node] ready in ${ms} ms: ${server.services
          .listModels()
          .filter((m) => m.alias_of === undefined)
          .map((m) => `${m.id}(${m.status})`)
          .join(' ')}`,
      )
    },
    (err: unknown) => {
      // Models report their own failures; what lands here stops the node (e.g. MODEL_DIR).
      console.error(`[ml-node] failed to start: ${(err as Error)?.message ?? err}`)
      process.exit(1)
    },
  )
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`[ml-node] ${signal}: finishing in-flight work and shutting down`)
    const force = setTimeout(() => process.exit(1), 10_000)
    force.unref()
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

main().catch((err: unknown) => {
  if (err instanceof PortInUseError || err instanceof ConfigError) {
    console.error(`[ml-node] ${err.message}`)
  } else {
    console.error('[ml-node] failed to start:', err)
  }
  process.exit(1)
})
