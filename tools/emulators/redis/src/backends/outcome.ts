import { RedisReplyError } from '../commands.js'
import type { Outcome, Reply } from './types.js'

/** Turns settled command promises into pipeline outcomes. */
export async function settle(promises: Promise<Reply>[]): Promise<Outcome[]> {
  const settled = await Promise.allSettled(promises)
  return settled.map((entry) =>
    entry.status === 'fulfilled' ? { result: entry.value } : { error: errorText(entry.reason) },
  )
}

/** The text to show for a failure: a Redis error passes unchanged, anything else is an ERR. */
export function errorText(reason: unknown): string {
  if (reason instanceof RedisReplyError) return reason.message
  if (reason instanceof Error && reason.name === 'ReplyError') return reason.message
  const message = reason instanceof Error ? reason.message : String(reason)
  return message.startsWith('ERR ') ? message : `ERR ${message}`
}
