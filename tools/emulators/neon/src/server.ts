import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { type WebSocket, WebSocketServer } from 'ws'
import { checkHttpCredentials, connectionStringFor, credentialsOf } from './credentials'
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_POSTGRES_URL,
  type NeonEmulatorBackend,
  type NeonEmulatorOptions,
  validateName,
  validatePassword,
  validatePostgresUrl,
} from './options'
import { PgliteBackend, type WireSession, type WireSink } from './pglite-backend'
import { openPostgresPipe, serverAddressOf } from './postgres-backend'
import { CORS_HEADERS, SqlOverHttp, send, type TargetResolver } from './sql-over-http'

export interface NeonEmulator {
  port: number
  /** 'http://127.0.0.1:<port>' */
  url: string
  /** What clients pass to Pool/neon(): see `neonEmulatorConnectionString`. */
  connectionString: string
  /**
   * A postgres:// URL for plain PostgreSQL clients (pg, psql, drizzle-kit): the configured
   * server, or for PGlite the emulator's own wire-protocol listener on an ephemeral port.
   */
  directConnectionString: string
  backend: NeonEmulatorBackend
  close(): Promise<void>
}

/** The PGlite backend's connection string with the default role, password and database. */
export const PGLITE_CONNECTION_STRING = 'postgres://postgres:postgres@localhost:5432/postgres'

/**
 * The connection string clients give Pool/neon() for these options: the configured server's
 * URL, or for PGlite one naming its role, password and database (host and port are ignored:
 * the driver reaches the emulator through neonConfig).
 */
export function neonEmulatorConnectionString(options: NeonEmulatorOptions = {}): string {
  if (options.backend === 'postgres') return options.postgresUrl ?? DEFAULT_POSTGRES_URL
  return connectionStringFor(credentialsOf(options), 'localhost:5432')
}

interface Backend {
  openWire(sink: WireSink): WireSession
  resolveTarget: TargetResolver
  directConnectionString: string
  close(): Promise<void>
}

async function openBackend(options: NeonEmulatorOptions): Promise<Backend> {
  if (options.backend === 'postgres') {
    const postgresUrl = options.postgresUrl ?? DEFAULT_POSTGRES_URL
    validatePostgresUrl(postgresUrl, 'postgresUrl')
    const address = serverAddressOf(postgresUrl)
    return {
      openWire: (sink) => openPostgresPipe(address, sink),
      resolveTarget: (c) => ({ ...address, ...c }),
      directConnectionString: postgresUrl,
      close: async () => {},
    }
  }
  const credentials = credentialsOf(options)
  const pglite = await PgliteBackend.open(options.dataDir, { credentials })
  try {
    const port = await pglite.listen('127.0.0.1', 0)
    return {
      openWire: (sink) => pglite.mux.openSession(sink),
      resolveTarget: (presented) => ({
        host: '127.0.0.1',
        port,
        ...checkHttpCredentials(credentials, presented),
      }),
      directConnectionString: connectionStringFor(credentials, `127.0.0.1:${port}`),
      close: () => pglite.close(),
    }
  } catch (err) {
    await pglite.close()
    throw err
  }
}

function attachWebSocket(ws: WebSocket, backend: Backend): void {
  const session = backend.openWire({
    send: (chunk) => {
      if (ws.readyState === ws.OPEN) ws.send(chunk, { binary: true })
    },
    end: () => {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close()
    },
  })
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const chunk = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data)
    session.write(chunk)
  })
  ws.on('close', () => session.close())
  ws.on('error', () => session.close())
}

export async function startNeonEmulator(options: NeonEmulatorOptions = {}): Promise<NeonEmulator> {
  const backendKind: NeonEmulatorBackend = options.backend ?? 'pglite'
  const host = options.host ?? DEFAULT_HOST
  const requestedPort = options.port ?? DEFAULT_PORT
  if (backendKind === 'postgres') {
    validatePostgresUrl(options.postgresUrl ?? DEFAULT_POSTGRES_URL, 'postgresUrl')
  }
  if (options.user !== undefined) validateName(options.user, 'user')
  if (options.password !== undefined) validatePassword(options.password, 'password')
  if (options.database !== undefined) validateName(options.database, 'database')
  // The port is taken before the (slow) backend starts, so a busy port fails at once;
  // requests that arrive meanwhile wait for the backend.
  let backend: Backend | undefined
  let sql: SqlOverHttp | undefined
  let resolveReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve
  })
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
  wss.on('connection', (ws) => {
    if (backend) attachWebSocket(ws, backend)
    else ws.close(1013, 'starting')
  })

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method === 'OPTIONS') {
      res.writeHead(200, { Allow: 'OPTIONS, POST', ...CORS_HEADERS })
      res.end()
    } else if (req.method === 'GET' && path === '/health') {
      if (sql) send(res, 200, { status: 'ok', backend: backendKind })
      else send(res, 503, { status: 'starting', backend: backendKind })
    } else if (req.method === 'POST') {
      // Neon serves /sql; any path is accepted so custom fetchEndpoint functions work too.
      ready
        .then(() => (sql as SqlOverHttp).handle(req, res))
        .catch(() => {
          if (!res.headersSent) send(res, 500, { message: 'internal error' })
        })
    } else {
      send(res, 400, { message: 'query is not supported' })
    }
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {})
    ready.then(() => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)))
  })
  server.on('clientError', (_err, socket) => socket.destroy())

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(requestedPort, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const stopServer = () =>
    new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate()
      server.close(() => resolve())
      server.closeAllConnections()
      wss.close()
    })
  try {
    backend = await openBackend({ ...options, backend: backendKind })
  } catch (err) {
    await stopServer()
    throw err
  }
  const openedBackend = backend
  const sqlHandler = new SqlOverHttp(openedBackend.resolveTarget)
  sql = sqlHandler
  resolveReady()

  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : requestedPort
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  const urlHost = reachable.includes(':') ? `[${reachable}]` : reachable

  let closing: Promise<void> | undefined
  return {
    port,
    url: `http://${urlHost}:${port}`,
    connectionString: neonEmulatorConnectionString({ ...options, backend: backendKind }),
    directConnectionString: openedBackend.directConnectionString,
    backend: backendKind,
    close() {
      closing ??= (async () => {
        await stopServer()
        await sqlHandler.close()
        await openedBackend.close()
      })()
      return closing
    },
  }
}
