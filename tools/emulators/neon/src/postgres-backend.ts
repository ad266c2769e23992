import { connect } from 'node:net'
import type { WireSession, WireSink } from './pglite-backend'
import { errorResponse } from './wire'

export interface PostgresServerAddress {
  host: string
  port: number
}

/** Reads host and port from a postgres:// URL (credentials are not needed here). */
export function serverAddressOf(postgresUrl: string): PostgresServerAddress {
  const url = new URL(postgresUrl)
  return {
    host: decodeURIComponent(url.hostname.replace(/^\[|\]$/g, '')) || '127.0.0.1',
    port: url.port ? Number(url.port) : 5432,
  }
}

/**
 * Pipes one client connection's bytes to a new TCP connection to the real server. The server
 * does authentication, transactions and Terminate itself.
 */
export function openPostgresPipe(address: PostgresServerAddress, sink: WireSink): WireSession {
  const socket = connect({ host: address.host, port: address.port })
  socket.setNoDelay(true)
  let closed = false
  let connected = false
  const pending: Uint8Array[] = []
  const close = () => {
    if (closed) return
    closed = true
    socket.destroy()
    try {
      sink.end()
    } catch {
      // already gone
    }
  }
  socket.on('connect', () => {
    connected = true
    for (const chunk of pending) socket.write(chunk)
    pending.length = 0
  })
  socket.on('data', (chunk) => sink.send(chunk))
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (!connected && !closed) {
      sink.send(
        errorResponse(
          '08006',
          `could not connect to the PostgreSQL server behind the emulator (${err.code ?? 'error'})`,
        ),
      )
    }
    close()
  })
  socket.on('close', close)
  return {
    write(chunk) {
      if (closed) return
      if (connected) socket.write(chunk)
      else pending.push(Buffer.from(chunk))
    },
    close,
  }
}
