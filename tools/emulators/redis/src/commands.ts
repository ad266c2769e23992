/**
 * What the emulator knows about Redis commands: existence and arity (from @ioredis/commands,
 * Redis's own command table), the commands a shared connection cannot serve, and Redis's exact
 * error texts for them.
 */
import { createRequire } from 'node:module'

interface CommandSpec {
  arity: number
  flags: string[]
}

const require = createRequire(import.meta.url)
const TABLE = require('@ioredis/commands/built/commands.json') as Record<string, CommandSpec>

/** A Redis error reply; `message` is the text Redis sends, unchanged. */
export class RedisReplyError extends Error {
  override name = 'RedisReplyError'
}

export type Arg = string | Buffer

/**
 * Commands that change the state of a connection or hold it: every request shares one
 * connection (or one in-process mock), so they are refused like Upstash refuses them.
 */
const NOT_AVAILABLE = new Set([
  'auth',
  'client',
  'discard',
  'exec',
  'hello',
  'monitor',
  'multi',
  'psubscribe',
  'psync',
  'punsubscribe',
  'quit',
  'replicaof',
  'reset',
  'select',
  'shutdown',
  'slaveof',
  'ssubscribe',
  'subscribe',
  'sunsubscribe',
  'swapdb',
  'sync',
  'unsubscribe',
  'unwatch',
  'watch',
  'failover',
  'debug',
])

export function commandSpec(name: string): CommandSpec | undefined {
  return Object.hasOwn(TABLE, name) ? TABLE[name] : undefined
}

export function isNotAvailable(name: string): boolean {
  return NOT_AVAILABLE.has(name)
}

export function isBlocking(name: string): boolean {
  return commandSpec(name)?.flags.includes('blocking') ?? false
}

/** Redis 7's reply to an unknown command, byte for byte (including the trailing space). */
export function unknownCommandError(args: readonly Arg[]): RedisReplyError {
  let listed = ''
  for (const arg of args.slice(1)) {
    if (listed.length >= 128) break
    listed += `'${String(arg).slice(0, 128 - listed.length)}' `
  }
  const name = String(args[0]).slice(0, 128)
  return new RedisReplyError(
    sanitize(`ERR unknown command '${name}', with args beginning with: ${listed}`),
  )
}

export function wrongArityError(name: string): RedisReplyError {
  return new RedisReplyError(`ERR wrong number of arguments for '${name}' command`)
}

export function notAvailableError(name: string): RedisReplyError {
  return new RedisReplyError(`ERR Command is not available: '${name}'`)
}

/** Redis replaces CR and LF in error replies with spaces. */
function sanitize(text: string): string {
  return text.replace(/[\r\n]/g, ' ')
}

/**
 * Checks a command the way Redis does before running it: it exists, has a legal number of
 * arguments and can run on a shared connection. Returns the lower-case name.
 */
export function checkCommand(args: readonly Arg[]): string {
  const name = String(args[0]).toLowerCase()
  const spec = commandSpec(name)
  if (!spec) throw unknownCommandError(args)
  if (NOT_AVAILABLE.has(name)) throw notAvailableError(name)
  const arity = spec.arity
  if ((arity > 0 && args.length !== arity) || (arity < 0 && args.length < -arity)) {
    throw wrongArityError(name)
  }
  return name
}
