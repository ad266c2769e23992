// Just enough of the PostgreSQL wire protocol to frame what a client sends and to read the
// transaction status a server reports. See "Message Formats" in the PostgreSQL manual.

export const PROTOCOL_VERSION_3 = 196608
export const SSL_REQUEST_CODE = 80877103
export const GSSENC_REQUEST_CODE = 80877104
export const CANCEL_REQUEST_CODE = 80877102

/** A complete message from the client: the untyped ones come before and instead of startup. */
export type FrontendMessage =
  | { kind: 'startup'; bytes: Buffer }
  | { kind: 'ssl-request' }
  | { kind: 'gssenc-request' }
  | { kind: 'cancel-request' }
  | { kind: 'typed'; type: string; bytes: Buffer }

const MAX_MESSAGE_BYTES = 1 << 30

/**
 * Splits a byte stream from a client into messages. Before startup the messages carry no type
 * byte (startup, SSLRequest, GSSENCRequest, CancelRequest); after it, every message does.
 */
export class FrontendFramer {
  #buffer: Buffer = Buffer.alloc(0)
  #started = false

  /** Adds bytes and returns the messages now complete. Throws on a malformed length. */
  push(chunk: Uint8Array): FrontendMessage[] {
    this.#buffer =
      this.#buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffer, chunk])
    const out: FrontendMessage[] = []
    for (;;) {
      const message = this.#next()
      if (!message) return out
      out.push(message)
    }
  }

  #next(): FrontendMessage | undefined {
    const buf = this.#buffer
    if (!this.#started) {
      if (buf.length < 8) return undefined
      const length = buf.readInt32BE(0)
      if (length < 8 || length > 10_000) throw new Error('invalid startup packet length')
      if (buf.length < length) return undefined
      const code = buf.readInt32BE(4)
      const bytes = buf.subarray(0, length)
      this.#buffer = buf.subarray(length)
      if (code === SSL_REQUEST_CODE) return { kind: 'ssl-request' }
      if (code === GSSENC_REQUEST_CODE) return { kind: 'gssenc-request' }
      if (code === CANCEL_REQUEST_CODE) return { kind: 'cancel-request' }
      if (code !== PROTOCOL_VERSION_3) throw new Error(`unsupported frontend protocol ${code}`)
      this.#started = true
      return { kind: 'startup', bytes: Buffer.from(bytes) }
    }
    if (buf.length < 5) return undefined
    const length = buf.readInt32BE(1)
    if (length < 4 || length > MAX_MESSAGE_BYTES) throw new Error('invalid message length')
    if (buf.length < 1 + length) return undefined
    const bytes = Buffer.from(buf.subarray(0, 1 + length))
    this.#buffer = buf.subarray(1 + length)
    return { kind: 'typed', type: String.fromCharCode(bytes[0] as number), bytes }
  }
}

/**
 * Returns the status byte of the last ReadyForQuery ('Z') in a chunk of complete backend
 * messages: 'I' idle, 'T' in a transaction, 'E' in a failed transaction; undefined if none.
 */
export function lastReadyForQueryStatus(output: Uint8Array): string | undefined {
  const buf = Buffer.from(output.buffer, output.byteOffset, output.byteLength)
  let status: string | undefined
  let offset = 0
  while (offset + 5 <= buf.length) {
    const type = buf[offset]
    const length = buf.readInt32BE(offset + 1)
    if (type === 0x5a && length === 5 && offset + 6 <= buf.length) {
      status = String.fromCharCode(buf[offset + 5] as number)
    }
    offset += 1 + length
  }
  return status
}

/** A simple-protocol Query message. */
export function queryMessage(sql: string): Buffer {
  const text = Buffer.from(`${sql}\0`, 'utf8')
  const out = Buffer.alloc(5 + text.length)
  out[0] = 0x51
  out.writeInt32BE(4 + text.length, 1)
  text.copy(out, 5)
  return out
}

/** A Sync message: ends an extended-protocol run and asks for ReadyForQuery. */
export const SYNC_MESSAGE = Buffer.from([0x53, 0, 0, 0, 4])

/** An ErrorResponse the client's driver can show, for failures of the emulator itself. */
export function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SERROR\0VERROR\0C${code}\0M${message}\0\0`, 'utf8')
  const out = Buffer.alloc(5 + fields.length)
  out[0] = 0x45
  out.writeInt32BE(4 + fields.length, 1)
  fields.copy(out, 5)
  return out
}

/** AuthenticationCleartextPassword: what Neon's proxy asks WebSocket clients for. */
export const AUTH_CLEARTEXT_PASSWORD = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])

/** The name/value pairs of a StartupMessage (length, protocol version, pairs, NUL). */
export function startupParameters(startup: Buffer): Map<string, string> {
  const parts = startup.subarray(8).toString('utf8').split('\0')
  const params = new Map<string, string>()
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const name = parts[i] as string
    if (name === '') break
    params.set(name, parts[i + 1] as string)
  }
  return params
}

/** The password in a PasswordMessage ('p'): one NUL-terminated string. */
export function passwordOf(message: Buffer): string {
  const body = message.subarray(5)
  const end = body.indexOf(0)
  return body.subarray(0, end === -1 ? body.length : end).toString('utf8')
}

/**
 * An ErrorResponse as Neon's proxy writes one for its own failures (authentication among
 * them): severity ERROR, SQLSTATE XX000 and the message, nothing else.
 */
export function proxyErrorResponse(message: string): Buffer {
  const fields = Buffer.from(`SERROR\0CXX000\0M${message}\0\0`, 'utf8')
  const out = Buffer.alloc(5 + fields.length)
  out[0] = 0x45
  out.writeInt32BE(4 + fields.length, 1)
  fields.copy(out, 5)
  return out
}
