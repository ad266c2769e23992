/**
 * The CLI's options: the environment, then flags. Unlike the library (memory unless `dataDir` is
 * given), the CLI keeps state in `.data/qstash` under the working directory, so a restart of a
 * standalone emulator loses no message, schedule or DLQ entry; memory only is asked for
 * explicitly.
 */
import { parseArgs } from 'node:util'
import { type QStashEmulatorOptions, qstashEmulatorOptionsFromEnv } from './config'

export const DEFAULT_CLI_DATA_DIR = '.data/qstash'

export const USAGE = `usage: qstash-emulator [--data-dir DIR | --memory]
Environment: QSTASH_EMULATOR_PORT, QSTASH_EMULATOR_HOST, QSTASH_EMULATOR_DATA_DIR,
             QSTASH_EMULATOR_MEMORY (1|true|0|false), QSTASH_EMULATOR_TIME_SCALE, QSTASH_TOKEN,
             QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY (flags win).
State is kept in ${DEFAULT_CLI_DATA_DIR} (under the working directory) unless --memory,
QSTASH_EMULATOR_MEMORY=1 or another directory is given.`

/** QSTASH_EMULATOR_MEMORY: unset or empty = false; anything but 1/true/0/false is an error. */
function memoryFromEnv(env: NodeJS.ProcessEnv): boolean {
  const value = env.QSTASH_EMULATOR_MEMORY?.trim().toLowerCase()
  if (value === undefined || value === '' || value === '0' || value === 'false') return false
  if (value === '1' || value === 'true') return true
  throw new Error('QSTASH_EMULATOR_MEMORY must be 1, true, 0 or false')
}

/**
 * Options for the CLI, or 'help'. Throws an Error naming the flag or variable when one is bad.
 * `--memory` (or QSTASH_EMULATOR_MEMORY=1) wins over QSTASH_EMULATOR_DATA_DIR, so memory-only
 * also works where a launcher sets the directory; `--data-dir` with `--memory` is an error.
 */
export function cliOptions(argv: string[], env: NodeJS.ProcessEnv): QStashEmulatorOptions | 'help' {
  const { values } = parseArgs({
    // `pnpm … start -- --help` passes the `--` on (pnpm itself answers a bare `--help`)
    args: argv[0] === '--' ? argv.slice(1) : argv,
    options: {
      'data-dir': { type: 'string' },
      memory: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) return 'help'
  const options = qstashEmulatorOptionsFromEnv(env)
  const envMemory = memoryFromEnv(env)
  const flagDir = values['data-dir']
  if (flagDir !== undefined && flagDir.trim() === '')
    throw new Error('--data-dir must not be empty')
  if (flagDir !== undefined && values.memory) {
    throw new Error('use either --data-dir or --memory, not both')
  }
  const memory = values.memory || (flagDir === undefined && envMemory)
  if (memory) delete options.dataDir
  else options.dataDir = flagDir ?? options.dataDir ?? DEFAULT_CLI_DATA_DIR
  return options
}
