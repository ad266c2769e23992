/** Starts the QStash emulator from the environment and flags; see README.md. */
import { resolve } from 'node:path'
import { cliOptions, USAGE } from './cli-options'
import type { QStashEmulatorOptions } from './config'
import { startQStashEmulator } from './index'

async function main(): Promise<void> {
  let options: QStashEmulatorOptions | 'help'
  try {
    options = cliOptions(process.argv.slice(2), process.env)
  } catch (error) {
    console.error(`qstash emulator: ${(error as Error).message}\n${USAGE}`)
    process.exit(1)
  }
  if (options === 'help') {
    console.log(USAGE)
    process.exit(0)
  }
  const port = options.port ?? 8080

  // Signal handlers go in before the ready line: a supervisor that signals as soon as it reads
  // that line must get a clean stop (state saved), not the default action.
  let emulator: Awaited<ReturnType<typeof startQStashEmulator>> | undefined
  let stopSignal: NodeJS.Signals | undefined
  const stop = (signal: NodeJS.Signals) => {
    if (stopSignal) return
    stopSignal = signal
    if (!emulator) return // still starting: stopped as soon as it is up
    emulator
      .close()
      .then(() => process.exit(0))
      .catch((error: Error) => {
        console.error(`qstash emulator: failed to stop cleanly on ${signal}: ${error.message}`)
        process.exit(1)
      })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

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
  // the absolute path, since `pnpm --filter … start` runs in the package folder
  const data = options.dataDir ? `data ${resolve(options.dataDir)}` : 'memory only'
  console.log(`qstash emulator ready on ${emulator.url} (${data})`)
  if (stopSignal) {
    const signal = stopSignal
    stopSignal = undefined
    stop(signal)
  }
}

void main()
