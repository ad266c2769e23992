/**
 * The real-Redis backend: one ioredis connection shared by every request, talking RESP2 and
 * handing back raw replies (`callBuffer` with upper-case command names, so none of ioredis's
 * reply transformers applies: HGETALL stays a flat array, values stay bytes). ioredis writes
 * commands in call order on that one connection, which pipelines concurrent requests; a
 * transaction's MULTI, commands and EXEC are issued in one synchronous run, so nothing from other
 * requests lands between them. Blocking commands get a connection of their own.
 */
import { Redis } from 'ioredis'
import {
  type Arg,
  isBlocking,
  isNotAvailable,
  notAvailableError,
  RedisReplyError,
} from '../commands.js'
import { ScriptShaMap, sha1hex, stripUnknownFlags } from '../scripts.js'
import { errorText, settle } from './outcome.js'
import { type Backend, EXECABORT, type Outcome, type Reply } from './types.js'

interface Prepared {
  args: Arg[]
  post?: (reply: Reply) => Reply
}

export class RedisBackend implements Backend {
  readonly name = 'redis'
  private readonly client: Redis
  private readonly shas = new ScriptShaMap()
  private lastError = ''

  private constructor(client: Redis) {
    this.client = client
  }

  /** Connects to `url`; rejects (without echoing credentials) when Redis does not answer. */
  static async connect(url: string): Promise<RedisBackend> {
    const client = new Redis(url, {
      lazyConnect: true,
      enableAutoPipelining: false,
      maxRetriesPerRequest: 2,
      connectTimeout: 3000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    })
    const backend = new RedisBackend(client)
    client.on('error', (error: Error) => {
      backend.lastError = error.message
    })
    try {
      await client.connect()
    } catch (error) {
      client.disconnect()
      const reason = error instanceof Error ? error.message : String(error)
      throw new Error(`cannot reach Redis for the redis backend: ${reason}`)
    }
    return backend
  }

  command(args: Arg[]): Promise<Reply> {
    let prepared: Prepared
    try {
      prepared = this.prepare(args)
    } catch (error) {
      return Promise.reject(error)
    }
    const name = String(prepared.args[0]).toLowerCase()
    const pending = isBlocking(name) ? this.blocking(prepared.args) : this.send(prepared.args)
    const post = prepared.post
    return post ? pending.then(post) : pending
  }

  async pipeline(commands: Arg[][]): Promise<Outcome[]> {
    const prepared: Array<Prepared | RedisReplyError> = commands.map((args) => {
      try {
        return this.prepare(args)
      } catch (error) {
        return error as RedisReplyError
      }
    })
    if (
      prepared.some((p) => !(p instanceof Error) && isBlocking(String(p.args[0]).toLowerCase()))
    ) {
      return settle(commands.map((args) => this.command(args)))
    }
    // One ioredis pipeline: the whole batch goes out in a single write.
    const batch = this.client.pipeline()
    for (const p of prepared) {
      if (p instanceof Error) continue
      const [name, ...rest] = p.args
      batch.callBuffer(String(name).toUpperCase(), ...rest)
    }
    const results = (await batch.exec()) ?? []
    let next = 0
    return prepared.map((p) => {
      if (p instanceof Error) return { error: p.message }
      const [error, reply] = results[next++] ?? [new Error('ERR no reply'), null]
      if (error) return { error: errorText(error) }
      return { result: p.post ? p.post(reply as Reply) : (reply as Reply) }
    })
  }

  async transaction(commands: Arg[][]): Promise<Outcome[]> {
    const prepared = commands.map((args) => this.prepare(args))
    // One ioredis pipeline, written at once on the shared connection: nothing from other
    // requests lands between MULTI and EXEC.
    const batch = this.client.pipeline()
    batch.callBuffer('MULTI')
    for (const p of prepared) {
      const [name, ...rest] = p.args
      batch.callBuffer(String(name).toUpperCase(), ...rest)
    }
    batch.callBuffer('EXEC')
    const results = (await batch.exec()) ?? []
    const [execError, replies] = results[results.length - 1] ?? [new Error('ERR no reply'), null]
    if (execError) {
      if (execError.message.startsWith('EXECABORT')) throw new RedisReplyError(EXECABORT)
      throw execError
    }
    if (!Array.isArray(replies)) throw new RedisReplyError(EXECABORT)
    return replies.map((reply, i) => {
      if (reply instanceof Error) return { error: reply.message }
      const post = prepared[i]?.post
      return { result: post ? post(reply) : reply }
    })
  }

  async close(): Promise<void> {
    try {
      await this.client.quit()
    } catch {
      this.client.disconnect()
    }
  }

  private send(args: Arg[]): Promise<Reply> {
    const [name, ...rest] = args
    return this.client.callBuffer(String(name).toUpperCase(), ...rest) as Promise<Reply>
  }

  private async blocking(args: Arg[]): Promise<Reply> {
    const connection = this.client.duplicate()
    connection.on('error', () => {})
    try {
      const [name, ...rest] = args
      return (await connection.callBuffer(String(name).toUpperCase(), ...rest)) as Reply
    } finally {
      connection.disconnect()
    }
  }

  /** Refuses connection-state commands and rewrites scripts for Redis 7.0 (see scripts.ts). */
  private prepare(args: Arg[]): Prepared {
    const name = String(args[0]).toLowerCase()
    if (isNotAvailable(name)) throw notAvailableError(name)
    if ((name === 'eval' || name === 'eval_ro') && args.length >= 2) {
      const original = String(args[1])
      const stripped = stripUnknownFlags(original)
      if (stripped === original) return { args }
      this.shas.remember(sha1hex(original), sha1hex(stripped))
      return { args: [args[0] as Arg, stripped, ...args.slice(2)] }
    }
    if ((name === 'evalsha' || name === 'evalsha_ro') && args.length >= 2) {
      return { args: [args[0] as Arg, this.shas.resolve(String(args[1])), ...args.slice(2)] }
    }
    if (name === 'script' && args.length >= 2) {
      const sub = String(args[1]).toLowerCase()
      if (sub === 'load' && args.length === 3) {
        const original = String(args[2])
        const stripped = stripUnknownFlags(original)
        if (stripped === original) return { args }
        const clientSha = sha1hex(original)
        this.shas.remember(clientSha, sha1hex(stripped))
        return { args: [args[0] as Arg, args[1] as Arg, stripped], post: () => clientSha }
      }
      if (sub === 'exists') {
        const shas = args.slice(2).map((sha) => this.shas.resolve(String(sha)))
        return { args: [args[0] as Arg, args[1] as Arg, ...shas] }
      }
    }
    return { args }
  }

  /** The last connection error ioredis reported (for diagnostics; never includes the URL). */
  get connectionError(): string {
    return this.lastError
  }
}
