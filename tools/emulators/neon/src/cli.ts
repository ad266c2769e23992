import { parseArgs } from 'node:util'
import {
  DEFAULT_PORT,
  DEFAULT_POSTGRES_URL,
  maskCredentials,
  type NeonEmulatorOptions,
  neonEmulatorOptionsFromEnv,
  parsePort,
  validateName,
  validatePostgresUrl,
} from './options'
import { startNeonEmulator } from './server'

const DEFAULT_CLI_DATA_DIR = '.data/neon'

const USAGE = `usage: neon-emulator [--port N] [--host H] [--backend pglite|postgres]
                     [--data-dir DIR | --memory] [--postgres-url URL]
                     [--user NAME] [--database NAME]
Environment: NEON_EMULATOR_PORT, NEON_EMULATOR_HOST, NEON_EMULATOR_BACKEND,
             NEON_EMULATOR_DATA_DIR, NEON_EMULATOR_POSTGRES_URL, NEON_EMULATOR_USER,
             NEON_EMULATOR_PASSWORD, NEON_EMULATOR_DATABASE (flags win).
PGlite keeps its data in ${DEFAULT_CLI_DATA_DIR} unless --memory or another directory is given,
and accepts only its one user, password and database (default postgres/postgres/postgres;
the password is set by environment only, to keep it out of process listings).`

function fail(message: string): never {
  console.error(`neon emulator: ${message}`)
  process.exit(1)
}

function optionsFromCli(argv: string[]): NeonEmulatorOptions & { memory: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      backend: { type: 'string' },
      'data-dir': { type: 'string' },
      memory: { type: 'boolean', default: false },
      'postgres-url': { type: 'string' },
      user: { type: 'string' },
      database: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const options = { ...neonEmulatorOptionsFromEnv(process.env), memory: values.memory ?? false }
  if (values.port !== undefined) options.port = parsePort(values.port, '--port')
  if (values.host !== undefined) options.host = values.host
  if (values.backend !== undefined) {
    if (values.backend !== 'pglite' && values.backend !== 'postgres') {
      throw new Error(`--backend must be "pglite" or "postgres", got "${values.backend}"`)
    }
    options.backend = values.backend
  }
  if (values['data-dir'] !== undefined) options.dataDir = values['data-dir']
  if (values['postgres-url'] !== undefined) {
    validatePostgresUrl(values['postgres-url'], '--postgres-url')
    options.postgresUrl = values['postgres-url']
  }
  if (values.user !== undefined) options.user = validateName(values.user, '--user')
  if (values.database !== undefined) options.database = validateName(values.database, '--database')
  return options
}

async function main(): Promise<void> {
  let options: ReturnType<typeof optionsFromCli>
  try {
    options = optionsFromCli(process.argv.slice(2))
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`)
  }
  const { memory, ...emulatorOptions } = options
  const backend = emulatorOptions.backend ?? 'pglite'
  if (backend === 'pglite') {
    emulatorOptions.dataDir = memory ? undefined : (emulatorOptions.dataDir ?? DEFAULT_CLI_DATA_DIR)
  }
  const port = emulatorOptions.port ?? DEFAULT_PORT

  // Signal handlers go in before anything is printed, so a supervisor that signals as soon as
  // it sees the ready line never hits the default action.
  let emulator: Awaited<ReturnType<typeof startNeonEmulator>> | undefined
  let stopSignal: NodeJS.Signals | undefined
  const stop = (signal: NodeJS.Signals) => {
    if (stopSignal) return
    stopSignal = signal
    if (!emulator) return // still starting: stopped as soon as it is up
    emulator
      .close()
      .then(() => {
        console.log(`neon emulator stopped (${signal})`)
        process.exit(0)
      })
      .catch((err: Error) => fail(`error while stopping: ${maskCredentials(err.message)}`))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  try {
    emulator = await startNeonEmulator(emulatorOptions)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      fail(`port ${port} is already in use (set NEON_EMULATOR_PORT)`)
    }
    fail(maskCredentials((err as Error).message))
  }

  const where =
    backend === 'postgres'
      ? `server ${maskCredentials(emulatorOptions.postgresUrl ?? DEFAULT_POSTGRES_URL)}`
      : `data ${emulatorOptions.dataDir ?? 'in memory'}`
  console.log(`neon emulator ready on ${emulator.url} (backend ${backend}, ${where})`)
  console.log(`connection string ${maskCredentials(emulator.connectionString)}`)
  if (stopSignal) {
    const signal = stopSignal
    stopSignal = undefined
    stop(signal)
  }
}

await main()
