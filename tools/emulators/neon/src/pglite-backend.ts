import { createServer, type Server, type Socket } from 'node:net'
import type { PGlite } from '@electric-sql/pglite'
import {
  checkCredentials,
  credentialsOf,
  type EmulatorCredentials,
  passwordFailedMessage,
  unknownDatabaseMessage,
} from './credentials'
import { createPglite } from './pglite-template'
import {
  AUTH_CLEARTEXT_PASSWORD,
  errorResponse,
  FrontendFramer,
  lastReadyForQueryStatus,
  passwordOf,
  proxyErrorResponse,
  queryMessage,
  SYNC_MESSAGE,
  startupParameters,
} from './wire'

/** Where a session's replies go: a WebSocket or a TCP socket. */
export interface WireSink {
  send(chunk: Uint8Array): void
  end(): void
}

/** One client connection's view of the shared backend. */
export interface WireSession {
  /** Bytes from the client (any framing). */
  write(chunk: Uint8Array): void
  /** The client went away: its transaction, if any, is rolled back. */
  close(): void
}

type Work = { kind: 'exec'; bytes: Buffer } | { kind: 'terminate' }

// Messages after which the client waits for an answer: run what has been gathered so far.
const GROUP_ENDS = new Set(['S', 'Q', 'H', 'c', 'f', 'F', 'd'])

interface StartupInfo {
  bytes: Buffer
  user: string
  database: string
}

class Session implements WireSession {
  readonly framer = new FrontendFramer()
  readonly work: Work[] = []
  #gathered: Buffer[] = []
  /** 'startup' until the StartupMessage, 'password' until the PasswordMessage checks out. */
  #phase: 'startup' | 'password' | 'ready' = 'startup'
  #startup: StartupInfo | undefined
  closed = false
  /** Last ReadyForQuery status seen: 'I', 'T' or 'E'. */
  status = 'I'

  constructor(
    readonly sink: WireSink,
    private readonly mux: PgliteMultiplexer,
  ) {}

  write(chunk: Uint8Array): void {
    if (this.closed) return
    let messages: ReturnType<FrontendFramer['push']>
    try {
      messages = this.framer.push(chunk)
    } catch (err) {
      this.sink.send(errorResponse('08P01', (err as Error).message))
      this.close()
      return
    }
    for (const message of messages) {
      switch (message.kind) {
        case 'ssl-request':
        case 'gssenc-request':
          this.sink.send(Buffer.from('N'))
          break
        case 'cancel-request':
          // Queries on the single backend cannot be cancelled; the request connection just ends.
          this.close()
          return
        case 'startup': {
          const params = startupParameters(message.bytes)
          const user = params.get('user')
          if (!user) {
            this.#refuse("Parameter 'user' is missing in startup packet.")
            return
          }
          this.#startup = { bytes: message.bytes, user, database: params.get('database') || user }
          // Like Neon's proxy: ask for a cleartext password. A client with pipelineConnect
          // has already sent it and ignores this request.
          this.#phase = 'password'
          this.sink.send(AUTH_CLEARTEXT_PASSWORD)
          break
        }
        case 'typed':
          if (this.#phase === 'password') {
            if (message.type === 'X') {
              this.close()
              return
            }
            if (message.type !== 'p') {
              this.#refuse(`expected password response, got message type ${message.type}`)
              return
            }
            if (!this.#authenticate(passwordOf(message.bytes))) return
            break
          }
          // PGlite's backend never takes part in authentication.
          if (message.type === 'p') break
          if (message.type === 'X') {
            this.#flushGathered()
            this.work.push({ kind: 'terminate' })
            break
          }
          this.#gathered.push(message.bytes)
          if (GROUP_ENDS.has(message.type)) this.#flushGathered()
      }
    }
    if (this.work.length > 0) this.mux.wake(this)
  }

  /** Checks the password and names; on success the startup goes to PGlite (AuthenticationOk). */
  #authenticate(password: string): boolean {
    const { bytes, user, database } = this.#startup as StartupInfo
    const verdict = checkCredentials(this.mux.credentials, { user, password, database })
    if (verdict === 'password-failed') {
      this.#refuse(passwordFailedMessage(user))
      return false
    }
    if (verdict === 'unknown-database') {
      this.#refuse(unknownDatabaseMessage(database))
      return false
    }
    this.#phase = 'ready'
    this.work.push({ kind: 'exec', bytes })
    return true
  }

  /** Answers like Neon's proxy (ErrorResponse ERROR/XX000) and ends the connection. */
  #refuse(message: string): void {
    this.sink.send(proxyErrorResponse(message))
    this.close()
  }

  #flushGathered(): void {
    if (this.#gathered.length === 0) return
    this.work.push({ kind: 'exec', bytes: Buffer.concat(this.#gathered) })
    this.#gathered = []
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.work.length = 0
    this.#gathered = []
    try {
      this.sink.end()
    } catch {
      // already gone
    }
    this.mux.onSessionClosed(this)
  }
}

export interface PgliteMultiplexerOptions {
  /**
   * How long a connection may hold the backend inside a transaction without sending anything
   * while others wait; then it is ended and its transaction rolled back (like PostgreSQL's
   * idle_in_transaction_session_timeout). Default 60 s; 0 disables.
   */
  idleInTransactionTimeoutMs?: number
  /** The role, password and database clients must present; default postgres/postgres/postgres. */
  credentials?: EmulatorCredentials
}

/**
 * Serves many client connections from PGlite's single backend. Work is run one message group
 * (up to Sync/Query/Flush) at a time; a connection whose group leaves the backend in a
 * transaction (or mid extended-protocol exchange) keeps the backend until it is idle again, so
 * transactions never interleave. A connection that vanishes has its transaction rolled back.
 */
export class PgliteMultiplexer {
  #owner: Session | undefined
  #waiting: Session[] = []
  #running = false
  #idleTimer: NodeJS.Timeout | undefined
  readonly #idleTimeoutMs: number
  readonly credentials: EmulatorCredentials

  constructor(
    readonly db: PGlite,
    options: PgliteMultiplexerOptions = {},
  ) {
    this.#idleTimeoutMs = options.idleInTransactionTimeoutMs ?? 60_000
    this.credentials = options.credentials ?? credentialsOf({})
  }

  openSession(sink: WireSink): WireSession {
    return new Session(sink, this)
  }

  wake(session: Session): void {
    if (session !== this.#owner && !this.#waiting.includes(session)) this.#waiting.push(session)
    void this.#drain()
  }

  onSessionClosed(session: Session): void {
    this.#waiting = this.#waiting.filter((s) => s !== session)
    if (session === this.#owner) void this.#drain()
  }

  async #drain(): Promise<void> {
    if (this.#running) return
    this.#running = true
    this.#clearIdleTimer()
    try {
      for (;;) {
        const owner = this.#owner
        if (owner?.closed) {
          await this.#rollbackAbandoned(owner)
          this.#owner = undefined
          continue
        }
        let session: Session | undefined
        if (owner) {
          if (owner.work.length === 0) break
          session = owner
        } else {
          session = this.#waiting.shift()
          if (!session) break
          if (session.closed || session.work.length === 0) continue
        }
        const work = session.work.shift() as Work
        if (work.kind === 'terminate') {
          if (this.#owner === session) await this.#rollbackAbandoned(session)
          this.#owner = undefined
          session.close()
          continue
        }
        this.#owner = session
        let output: Uint8Array
        try {
          output = await this.#exec(work.bytes)
        } catch (err) {
          session.sink.send(errorResponse('XX000', `emulator backend failed: ${String(err)}`))
          session.close()
          continue
        }
        if (!session.closed && output.length > 0) session.sink.send(output)
        const status = lastReadyForQueryStatus(output)
        if (status !== undefined) session.status = status
        if (status === 'I') {
          this.#owner = undefined
          if (session.work.length > 0) this.#waiting.push(session)
        }
      }
    } finally {
      this.#running = false
    }
    this.#armIdleTimer()
  }

  #exec(bytes: Uint8Array): Promise<Uint8Array> {
    return this.db.runExclusive(() => this.db.execProtocolRaw(bytes))
  }

  /** Ends whatever the departed owner left open: a pending extended exchange, a transaction. */
  async #rollbackAbandoned(session: Session): Promise<void> {
    try {
      const afterSync = lastReadyForQueryStatus(await this.#exec(SYNC_MESSAGE))
      if (afterSync !== 'I') await this.#exec(queryMessage('ROLLBACK'))
    } catch {
      // the backend itself failed; nothing more to undo
    }
    session.status = 'I'
  }

  #armIdleTimer(): void {
    const owner = this.#owner
    if (!owner || this.#idleTimeoutMs <= 0 || this.#waiting.length === 0) return
    this.#idleTimer = setTimeout(() => {
      if (this.#owner !== owner || owner.work.length > 0 || this.#running) return
      owner.sink.send(
        errorResponse(
          '25P03',
          'terminating connection due to idle-in-transaction timeout (the emulator serves one transaction at a time)',
        ),
      )
      owner.close()
    }, this.#idleTimeoutMs)
    this.#idleTimer.unref()
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer)
    this.#idleTimer = undefined
  }

  /** Waits for running work, then stops taking more. */
  async shutdown(): Promise<void> {
    this.#clearIdleTimer()
    this.#waiting = []
    await this.db.runExclusive(async () => {})
  }
}

/** PGlite with pgvector, behind the multiplexer and a local TCP wire-protocol listener. */
export class PgliteBackend {
  readonly #sockets = new Set<Socket>()
  #server: Server | undefined
  port = 0

  private constructor(
    readonly db: PGlite,
    readonly mux: PgliteMultiplexer,
  ) {}

  static async open(
    dataDir: string | undefined,
    options: PgliteMultiplexerOptions = {},
  ): Promise<PgliteBackend> {
    const db = await createPglite(dataDir)
    return new PgliteBackend(db, new PgliteMultiplexer(db, options))
  }

  /** Listens for plain PostgreSQL connections (used by the HTTP endpoint and direct tools). */
  async listen(host = '127.0.0.1', port = 0): Promise<number> {
    const server = createServer((socket) => {
      socket.setNoDelay(true)
      this.#sockets.add(socket)
      const session = this.mux.openSession({
        send: (chunk) => {
          if (socket.writable) socket.write(chunk)
        },
        end: () => socket.end(),
      })
      socket.on('data', (chunk) => session.write(chunk))
      socket.on('error', () => session.close())
      socket.on('close', () => {
        this.#sockets.delete(socket)
        session.close()
      })
    })
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const address = server.address()
    this.port = typeof address === 'object' && address ? address.port : port
    return this.port
  }

  async close(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    for (const socket of this.#sockets) socket.destroy()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
    await this.mux.shutdown()
    await this.db.close()
  }
}
