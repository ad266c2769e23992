import type { Arg, RedisReplyError } from '../commands.js'

/** A Redis reply as RESP2 has it: nil, integer, bulk/status string, array, or a nested error. */
export type Reply = null | number | string | Buffer | RedisReplyError | Reply[]

/** The outcome of one command inside a pipeline or transaction. */
export type Outcome = { result: Reply } | { error: string }

export interface Backend {
  readonly name: string
  /** Runs one command; rejects with a {@link RedisReplyError} for a Redis error reply. */
  command(args: Arg[]): Promise<Reply>
  /** Runs commands in order, not atomically; each gets its own outcome. */
  pipeline(commands: Arg[][]): Promise<Outcome[]>
  /**
   * Runs commands atomically (MULTI/EXEC). A command Redis refuses to queue discards the whole
   * transaction: the promise rejects with Redis's EXECABORT error.
   */
  transaction(commands: Arg[][]): Promise<Outcome[]>
  close(): Promise<void>
}

export const EXECABORT = 'EXECABORT Transaction discarded because of previous errors.'
