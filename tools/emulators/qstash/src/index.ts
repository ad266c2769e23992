/**
 * A local stand-in for Upstash QStash's v2 REST API: the official `@upstash/qstash` Client and
 * Receiver work against it offline, and it really delivers messages by HTTP.
 */

import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApi } from './api'
import { type QStashEmulatorOptions, resolveOptions } from './config'
import { Engine } from './engine'
import { Signer } from './signing'
import { Store } from './store'
import { WorkflowRuns } from './workflows'

export { DEV_CREDENTIALS, type QStashEmulatorOptions, qstashEmulatorOptionsFromEnv } from './config'

export interface QStashEmulator {
  port: number
  url: string
  token: string
  currentSigningKey: string
  nextSigningKey: string
  /** Stops accepting requests, lets in-flight deliveries finish, persists state. */
  close(): Promise<void>
}

export async function startQStashEmulator(
  options: QStashEmulatorOptions = {},
): Promise<QStashEmulator> {
  const resolved = resolveOptions(options)
  const store = new Store(resolved.dataDir)
  const engine = new Engine(store, resolved, new Signer(resolved.currentSigningKey))
  const workflows = new WorkflowRuns(store, engine)
  engine.useHooks(workflows)
  const app = createApi(engine, workflows, resolved)
  const server = createServer({ keepAliveTimeout: 65_000 }, app.listener)
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening)
      reject(error)
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(resolved.port, resolved.host)
  }).catch((error) => {
    // nothing was written yet (the engine starts after listen), so nothing needs saving
    store.abandon()
    throw error
  })
  engine.start()
  const port = (server.address() as AddressInfo).port
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host
  let closing: Promise<void> | undefined
  return {
    port,
    url: `http://${host}:${port}`,
    token: resolved.token,
    currentSigningKey: resolved.currentSigningKey,
    nextSigningKey: resolved.nextSigningKey,
    close() {
      closing ??= (async () => {
        // Deliveries in flight finish first, with the API still answering: a workflow endpoint
        // publishes its next step to us before it answers its delivery, and a publish cut off
        // here would fail that delivery, which then runs again after a restart.
        await engine.stop()
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeAllConnections()
        await closed
        await store.close()
      })()
      return closing
    },
  }
}
