/**
 * The Upstash REST wire format: how commands arrive (JSON arrays, or path segments) and how
 * replies leave (`{result}` / `{error}`, every string base64-encoded under
 * `Upstash-Encoding: base64`).
 */

import type { Outcome, Reply } from './backends/types.js'
import { type Arg, RedisReplyError } from './commands.js'

/** A request the emulator refuses before any command runs; answered as `{error}`. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'RequestError'
  }
}

export const PARSE_ERROR = 'ERR failed to parse command'

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw new RequestError(400, PARSE_ERROR)
  }
}

/** Converts one JSON value of a command array to a Redis argument. */
function toArg(value: unknown): Arg {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (value === null) return ''
  return JSON.stringify(value)
}

function toCommand(value: unknown): Arg[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RequestError(400, PARSE_ERROR)
  }
  const [name] = value
  if (typeof name !== 'string' || name.length === 0) throw new RequestError(400, PARSE_ERROR)
  return value.map(toArg)
}

/** `POST /` body: `["SET", "k", "v"]`. */
export function parseCommand(body: Buffer): Arg[] {
  return toCommand(parseJson(body))
}

/** `POST /pipeline` and `/multi-exec` body: `[["SET", "k", "v"], ["GET", "k"]]`. */
export function parseCommands(body: Buffer): Arg[][] {
  const value = parseJson(body)
  if (!Array.isArray(value) || value.length === 0) throw new RequestError(400, PARSE_ERROR)
  return value.map(toCommand)
}

/**
 * The path form: `/set/k/v?EX=100` is `SET k v EX 100`; a POST/PUT body is appended as the last
 * value before the query arguments (Upstash's way to send JSON or binary values).
 */
export function parsePathCommand(pathname: string, query: URLSearchParams, body: Buffer): Arg[] {
  const segments = pathname.split('/').slice(1)
  if (segments.at(-1) === '') segments.pop()
  let args: Arg[]
  try {
    args = segments.map((segment) => decodeURIComponent(segment))
  } catch {
    throw new RequestError(400, PARSE_ERROR)
  }
  if (args.length === 0 || args[0] === '') throw new RequestError(400, PARSE_ERROR)
  if (body.length > 0) args.push(body)
  for (const [key, value] of query) {
    if (key === '_token') continue
    args.push(key)
    if (value !== '') args.push(value)
  }
  return args
}

const OK = Buffer.from('OK')

/** Encodes a reply for JSON; `top` marks the value of `result` itself, where "OK" stays plain. */
export function encodeReply(value: Reply, base64: boolean, top = true): unknown {
  if (value === null || value === undefined) return null
  if (typeof value === 'number') return value
  if (typeof value === 'string') {
    if (!base64 || (top && value === 'OK')) return value
    return Buffer.from(value, 'utf8').toString('base64')
  }
  if (Buffer.isBuffer(value)) {
    if (!base64) return value.toString('utf8')
    if (top && value.equals(OK)) return 'OK'
    return value.toString('base64')
  }
  if (Array.isArray(value)) return value.map((item) => encodeReply(item, base64, false))
  if (value instanceof Error) return encodeReply(value.message, base64, false)
  return null
}

export function encodeOutcomes(outcomes: Outcome[], base64: boolean): unknown[] {
  return outcomes.map((outcome) =>
    'error' in outcome ? { error: outcome.error } : { result: encodeReply(outcome.result, base64) },
  )
}

/** HTTP status and body for a failed request or command. */
export function errorResponse(error: unknown): { status: number; body: { error: string } } {
  if (error instanceof RequestError) return { status: error.status, body: { error: error.message } }
  if (error instanceof RedisReplyError || (error instanceof Error && error.name === 'ReplyError')) {
    return { status: 400, body: { error: error.message } }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { status: 500, body: { error: `ERR ${message}` } }
}
