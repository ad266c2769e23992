/**
 * The embedded backend: one in-process ioredis-mock keyspace shared by every request.
 *
 * ioredis-mock is a JS model of Redis, looser than the real thing; this adapter makes the parts
 * the Upstash clients depend on behave like Redis 7: command existence and arity, WRONGTYPE
 * checks, option keywords in any case, RESP2 reply shapes (HGETALL as a flat array, floats as
 * bulk strings, STRLEN in bytes) and scripting (lua.ts). Commands run synchronously through
 * ioredis-mock's emulators (mock-internals.ts), so MULTI/EXEC and scripts are atomic: nothing
 * else runs between their commands.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import {
  type Arg,
  checkCommand,
  isNotAvailable,
  notAvailableError,
  RedisReplyError,
} from '../commands.js'
import { LuaRunner } from './lua.js'
import { type Emulator, loadMockModule } from './mock-internals.js'
import { type Backend, EXECABORT, type Outcome, type Reply } from './types.js'

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value'

type KeyType = 'string' | 'hash' | 'list' | 'set' | 'zset'

/** The type each command needs at its first key (Redis answers WRONGTYPE otherwise). */
const KEY_TYPE: Record<string, KeyType> = {}
const family = (type: KeyType, names: string) => {
  for (const name of names.split(' ')) KEY_TYPE[name] = type
}
family(
  'string',
  'get getset getdel getex getrange setrange append strlen incr incrby decr decrby incrbyfloat ' +
    'setbit getbit bitcount bitpos substr',
)
family(
  'hash',
  'hset hsetnx hget hmget hmset hdel hexists hgetall hincrby hincrbyfloat hkeys hvals hlen ' +
    'hstrlen hrandfield hscan',
)
family(
  'list',
  'lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset lrem ltrim linsert lpos lmove ' +
    'rpoplpush',
)
family(
  'set',
  'sadd srem smembers sismember smismember scard spop srandmember sscan smove sinter sunion ' +
    'sdiff sintercard',
)
family(
  'zset',
  'zadd zrem zrange zrevrange zrangebyscore zrevrangebyscore zrangebylex zrevrangebylex zscore ' +
    'zmscore zincrby zcard zcount zlexcount zrank zrevrank zpopmin zpopmax zremrangebyrank ' +
    'zremrangebyscore zremrangebylex zscan zrandmember',
)

/** Commands whose replies are bulk strings holding a float, which ioredis-mock gives as numbers. */
const FLOAT_REPLY = new Set([
  'zscore',
  'zmscore',
  'zincrby',
  'incrbyfloat',
  'hincrbyfloat',
  'geodist',
])

/**
 * ioredis-mock only knows upper-case option keywords (`EX`, `MATCH`…) while Redis and the
 * Upstash client use any case. For each command: where options may start, and whether they only
 * lead (ZADD's flags come before its score/member pairs).
 */
const OPTION_START: Record<string, { from: number; leading?: boolean }> = {
  set: { from: 3 },
  getex: { from: 2 },
  expire: { from: 3 },
  pexpire: { from: 3 },
  expireat: { from: 3 },
  pexpireat: { from: 3 },
  scan: { from: 2 },
  hscan: { from: 3 },
  sscan: { from: 3 },
  zscan: { from: 3 },
  zadd: { from: 2, leading: true },
  zrange: { from: 4 },
  zrangebyscore: { from: 4 },
  zrevrangebyscore: { from: 4 },
  zrangebylex: { from: 4 },
  zrevrangebylex: { from: 4 },
  zrevrange: { from: 4 },
  zunionstore: { from: 3 },
  zinterstore: { from: 3 },
  lpos: { from: 3 },
  linsert: { from: 2, leading: true },
  hrandfield: { from: 3 },
  zrandmember: { from: 3 },
}

/** Option keywords and how many values follow each. */
const KEYWORDS: Record<string, number> = {
  EX: 1,
  PX: 1,
  EXAT: 1,
  PXAT: 1,
  NX: 0,
  XX: 0,
  GT: 0,
  LT: 0,
  CH: 0,
  INCR: 0,
  GET: 0,
  KEEPTTL: 0,
  PERSIST: 0,
  MATCH: 1,
  COUNT: 1,
  TYPE: 1,
  WITHSCORES: 0,
  WITHVALUES: 0,
  LIMIT: 2,
  BYSCORE: 0,
  BYLEX: 0,
  REV: 0,
  RANK: 1,
  MAXLEN: 1,
  BEFORE: 0,
  AFTER: 0,
  WEIGHTS: 0,
  AGGREGATE: 1,
}

function normalizeOptions(name: string, args: string[]): string[] {
  const rule = OPTION_START[name]
  if (!rule) return args
  const out = args.slice()
  // `args` excludes the command name, so Redis position n is index n - 1 here.
  let i = rule.from - 1
  while (i < out.length) {
    const upper = (out[i] as string).toUpperCase()
    const values = KEYWORDS[upper]
    if (values === undefined) {
      if (rule.leading) break
      i += 1
      continue
    }
    out[i] = upper
    i += 1 + values
  }
  return out
}

const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'script'])

interface MockInternals {
  data: { has(key: string): boolean; get(key: string): unknown }
}

export class MockBackend implements Backend {
  readonly name = 'mock'
  private readonly mock: Redis
  private readonly commands: Record<string, Emulator>
  private readonly lua: LuaRunner

  constructor() {
    const { RedisMock, commands } = loadMockModule()
    // A unique host gives this emulator its own keyspace (ioredis-mock shares data per host:port).
    this.mock = new RedisMock({ host: `synthstack-emulator-${randomUUID()}` })
    this.commands = commands
    this.lua = new LuaRunner((args) => this.run(args))
  }

  async command(args: Arg[]): Promise<Reply> {
    return this.run(args.map(String))
  }

  async pipeline(commands: Arg[][]): Promise<Outcome[]> {
    return commands.map((args) => this.outcome(args))
  }

  async transaction(commands: Arg[][]): Promise<Outcome[]> {
    for (const args of commands) {
      const name = String(args[0]).toLowerCase()
      if (isNotAvailable(name)) throw notAvailableError(name)
      try {
        checkCommand(args)
      } catch {
        throw new RedisReplyError(EXECABORT)
      }
    }
    return commands.map((args) => this.outcome(args))
  }

  async close(): Promise<void> {
    this.lua.flush()
    await this.mock.flushall()
    this.mock.disconnect()
  }

  private outcome(args: Arg[]): Outcome {
    try {
      return { result: this.run(args.map(String)) }
    } catch (error) {
      return { error: mockError(error, String(args[0]).toLowerCase()).message }
    }
  }

  /** Runs one command synchronously; throws a {@link RedisReplyError} for an error reply. */
  private run(args: string[]): Reply {
    const name = checkCommand(args)
    const rest = normalizeOptions(name, args.slice(1))
    if (SCRIPT_COMMANDS.has(name)) return this.script(name, rest)
    const data = (this.mock as unknown as MockInternals).data
    const needed = KEY_TYPE[name]
    if (needed && rest[0] !== undefined) {
      const actual = typeOf(data, rest[0])
      if (actual !== 'none' && actual !== needed) throw new RedisReplyError(WRONGTYPE)
    }
    if (name === 'strlen') {
      // ioredis-mock counts UTF-16 units; Redis counts bytes.
      const value = data.has(rest[0] as string) ? data.get(rest[0] as string) : ''
      return Buffer.byteLength(value as string)
    }
    const emulator = this.commands[name]
    if (typeof emulator !== 'function') throw notSupported(name)
    let value: unknown
    try {
      value = emulator.apply(this.mock, rest)
    } catch (error) {
      throw mockError(error, name)
    }
    if (value instanceof Promise) {
      // A few emulators (blocking pops) are asynchronous; scripts and transactions never see them.
      throw notSupported(name)
    }
    return normalize(value, FLOAT_REPLY.has(name))
  }

  private script(name: string, rest: string[]): Reply {
    if (name === 'script') return this.scriptSubcommand(rest)
    const [first = '', numkeys = '', ...params] = rest
    const sha = name === 'eval' || name === 'eval_ro' ? this.lua.load(first) : first.toLowerCase()
    if (!this.lua.has(sha))
      throw new RedisReplyError('NOSCRIPT No matching script. Please use EVAL.')
    if (!/^-?\d+$/.test(numkeys)) {
      throw new RedisReplyError('ERR value is not an integer or out of range')
    }
    const keyCount = Number(numkeys)
    if (keyCount < 0) throw new RedisReplyError("ERR Number of keys can't be negative")
    if (keyCount > params.length) {
      throw new RedisReplyError("ERR Number of keys can't be greater than number of args")
    }
    return this.lua.run(sha, params.slice(0, keyCount), params.slice(keyCount))
  }

  private scriptSubcommand(rest: string[]): Reply {
    const sub = (rest[0] ?? '').toLowerCase()
    if (sub === 'load' && rest.length === 2) return this.lua.load(rest[1] ?? '')
    if (sub === 'exists' && rest.length >= 2) {
      return rest.slice(1).map((sha) => (this.lua.has(sha.toLowerCase()) ? 1 : 0))
    }
    if (sub === 'flush' && rest.length <= 2) {
      this.lua.flush()
      return 'OK'
    }
    if (['load', 'exists', 'flush'].includes(sub)) {
      throw new RedisReplyError(`ERR wrong number of arguments for 'script|${sub}' command`)
    }
    throw new RedisReplyError(
      `ERR unknown subcommand '${(rest[0] ?? '').slice(0, 128)}'. Try SCRIPT HELP.`,
    )
  }
}

function typeOf(data: MockInternals['data'], key: string): KeyType | 'none' | 'other' {
  if (!data.has(key)) return 'none'
  const value = data.get(key)
  if (value instanceof Set) return 'set'
  if (value instanceof Map) return 'zset'
  if (Array.isArray(value)) return 'list'
  if (typeof value === 'string' || Buffer.isBuffer(value)) return 'string'
  if (value !== null && typeof value === 'object') return 'hash'
  return 'other'
}

function notSupported(name: string): RedisReplyError {
  return new RedisReplyError(
    `${notAvailableError(name).message}. The emulator's mock backend does not support it; ` +
      "use backend 'redis'.",
  )
}

/** Maps ioredis-mock's own error messages to Redis's texts. */
function mockError(error: unknown, name: string): RedisReplyError {
  if (error instanceof RedisReplyError) return error
  const raw = error instanceof Error ? error.message : String(error)
  const message = raw.replace(/^(Error|ReplyError|TypeError): /, '')
  if (/does not contain a|wrong kind of value|WRONGTYPE/i.test(message)) {
    return new RedisReplyError(WRONGTYPE)
  }
  if (/^Unsupported command/.test(message)) return notSupported(name)
  if (/^[A-Z]+ /.test(message)) return new RedisReplyError(message)
  return new RedisReplyError(`ERR ${message}`)
}

/** Converts an ioredis-mock reply to its RESP2 shape. */
function normalize(value: unknown, floatReply: boolean): Reply {
  if (value === null || value === undefined) return null
  if (typeof value === 'number') {
    if (!floatReply && Number.isInteger(value)) return value
    return formatFloat(value)
  }
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value
  if (Array.isArray(value)) return value.map((item) => normalize(item, floatReply))
  if (value instanceof Map || value instanceof Set) {
    return [...value].flat().map((item) => normalize(item, floatReply))
  }
  if (typeof value === 'object') {
    // HGETALL comes back as an object (ioredis's reply transformer); RESP2 has a flat array.
    return Object.entries(value).flatMap(([field, item]) => [field, normalize(item, floatReply)])
  }
  return String(value)
}

function formatFloat(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return 'inf'
  if (value === Number.NEGATIVE_INFINITY) return '-inf'
  return String(value)
}
