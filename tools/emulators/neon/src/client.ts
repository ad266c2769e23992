// Points @neondatabase/serverless at the emulator. Kept free of server code so edge code
// (workerd) can import `@synthstack/emulator-neon/client` without bundling PGlite; under workerd
// the `ws` import resolves to its browser stub, which is never called there.
import type { neonConfig as NeonConfig } from '@neondatabase/serverless'
import { WebSocket as NodeWebSocket } from 'ws'

/**
 * Sets wsProxy (`host:port/v2`), useSecureWebSocket=false, pipelineConnect=false,
 * pipelineTLS=false and fetchEndpoint (`http://host:port/sql`), plus the `ws` WebSocket
 * constructor when the runtime has no global WebSocket (Node 20).
 */
export function configureNeonForEmulator(neonConfig: typeof NeonConfig, emulatorUrl: string): void {
  const url = new URL(emulatorUrl)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`emulator URL must be http:// or https://, got ${url.protocol}`)
  }
  const base = url.pathname.replace(/\/+$/, '')
  neonConfig.wsProxy = `${url.host}${base}/v2`
  neonConfig.useSecureWebSocket = url.protocol === 'https:'
  neonConfig.pipelineConnect = false
  neonConfig.pipelineTLS = false
  neonConfig.fetchEndpoint = `${url.protocol}//${url.host}${base}/sql`
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined') {
    neonConfig.webSocketConstructor =
      NodeWebSocket as unknown as typeof neonConfig.webSocketConstructor
  }
}
