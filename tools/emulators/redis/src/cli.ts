/** `pnpm start`: runs the emulator configured from REDIS_EMULATOR_* variables. */
import { redisEmulatorOptionsFromEnv, startRedisEmulator } from './index.js'

async function main(): Promise<void> {
  let options: ReturnType<typeof redisEmulatorOptionsFromEnv>
  try {
    options = redisEmulatorOptionsFromEnv()
  } catch (error) {
    console.error(`redis emulator: ${(error as Error).message}`)
    process.exit(1)
  }
  const port = options.port ?? 8079
  let emulator: Awaited<ReturnType<typeof startRedisEmulator>>
  try {
    emulator = await startRedisEmulator(options)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') {
      console.error(`redis emulator: port ${port} is already in use (set REDIS_EMULATOR_PORT)`)
    } else {
      console.error(`redis emulator: ${(error as Error).message}`)
    }
    process.exit(1)
  }
  console.log(`redis emulator ready on ${emulator.url} (backend ${options.backend ?? 'mock'})`)

  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    console.log(`redis emulator: ${signal} received, stopping`)
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

void main()
