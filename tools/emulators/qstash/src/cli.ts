/** Starts the QStash emulator from the environment; see README.md. */
import { qstashEmulatorOptionsFromEnv, startQStashEmulator } from './index'

async function main(): Promise<void> {
  let options: ReturnType<typeof qstashEmulatorOptionsFromEnv>
  try {
    options = qstashEmulatorOptionsFromEnv()
  } catch (error) {
    console.error(`qstash emulator: ${(error as Error).message}`)
    process.exit(1)
  }
  const port = options.port ?? 8080
  let emulator: Awaited<ReturnType<typeof startQStashEmulator>>
  try {
    emulator = await startQStashEmulator(options)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`qstash emulator: port ${port} is already in use (set QSTASH_EMULATOR_PORT)`)
    } else {
      console.error(`qstash emulator: ${(error as Error).message}`)
    }
    process.exit(1)
  }
  const data = options.dataDir ? `data ${options.dataDir}` : 'memory only'
  console.log(`qstash emulator ready on ${emulator.url} (${data})`)
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    try {
      await emulator.close()
      process.exit(0)
    } catch (error) {
      console.error(
        `qstash emulator: failed to stop cleanly on ${signal}: ${(error as Error).message}`,
      )
      process.exit(1)
    }
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
}

void main()
