/**
 * ioredis-mock's command emulators, reached synchronously.
 *
 * Its public methods wrap every command in a Promise, which a Lua `redis.call` cannot wait for,
 * and its own EVAL is slow and lossy (see lua.ts). The emulators themselves are plain
 * synchronous functions called with the instance as `this`; the package keeps them in a
 * module-private `commands_exports` object. This loads a private copy of the (pinned, 8.13.1)
 * bundle that also exports that object. If a future version renames it, startup fails loudly.
 */
import { readFileSync } from 'node:fs'
import Module, { createRequire } from 'node:module'
import { dirname } from 'node:path'
import type { Redis } from 'ioredis'

export type Emulator = (this: Redis, ...args: string[]) => unknown

export interface MockModule {
  RedisMock: new (options?: Record<string, unknown>) => Redis
  commands: Record<string, Emulator>
}

const HOOK = '\nmodule.exports.__synthstackCommands = commands_exports;\n'

let loaded: MockModule | undefined

interface CompilableModule {
  filename: string
  paths: string[]
  exports: unknown
  _compile(source: string, filename: string): void
}

export function loadMockModule(): MockModule {
  if (loaded) return loaded
  const require = createRequire(import.meta.url)
  const file = require.resolve('ioredis-mock')
  const source = readFileSync(file, 'utf8')
  if (!/\bvar commands_exports = \{\}/.test(source)) {
    throw new Error(
      'ioredis-mock changed its bundle layout: the mock backend needs ioredis-mock 8.13.1',
    )
  }
  const ModuleClass = Module as unknown as {
    new (id: string): CompilableModule
    _nodeModulePaths(dir: string): string[]
  }
  const copy = new ModuleClass(file)
  copy.filename = file
  copy.paths = ModuleClass._nodeModulePaths(dirname(file))
  copy._compile(source + HOOK, file)
  const RedisMock = copy.exports as MockModule['RedisMock'] & {
    __synthstackCommands?: Record<string, Emulator>
  }
  const commands = RedisMock.__synthstackCommands
  if (!commands || typeof commands.get !== 'function') {
    throw new Error('ioredis-mock internals not found: the mock backend needs ioredis-mock 8.13.1')
  }
  loaded = { RedisMock, commands }
  return loaded
}
