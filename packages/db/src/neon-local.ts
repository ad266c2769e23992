/**
 * Points the Neon serverless driver at the local Neon emulator (tools/emulators/neon).
 *
 * No Node-only imports here: this module is bundled into Workers. Under Node 20 (no global
 * WebSocket) pass `webSocketConstructor` (e.g. the `ws` package) from Node-side code.
 * Production never calls this: it runs only when `NEON_EMULATOR_URL` is set.
 */

/** The subset of `neonConfig` this module writes (structural, so any driver copy fits). */
export interface NeonConfigTarget {
  wsProxy: string | ((host: string, port: number | string) => string)
  useSecureWebSocket: boolean
  pipelineConnect: 'password' | false
  fetchEndpoint: string | ((host: string, port: number | string, options?: never) => string)
  webSocketConstructor: unknown
}

export interface NeonLocalOptions {
  /** WebSocket implementation for runtimes without a global one (Node 20). */
  webSocketConstructor?: unknown
}

/** Parses and checks an emulator URL (`http://127.0.0.1:4444`); throws without echoing it. */
export function parseEmulatorUrl(emulatorUrl: string): URL {
  let url: URL
  try {
    url = new URL(emulatorUrl)
  } catch {
    throw new Error('NEON_EMULATOR_URL is not a valid URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error('NEON_EMULATOR_URL must use http: or https:')
  }
  return url
}

/**
 * Applies the local settings: WebSocket proxy at `{emulator}/v2`, plain `ws:` when the emulator
 * is plain HTTP, no pipelined connect (it fails against SCRAM), and SQL-over-HTTP at `{emulator}/sql`.
 */
export function configureNeonForEmulator(
  config: NeonConfigTarget,
  emulatorUrl: string,
  options: NeonLocalOptions = {},
): void {
  const url = parseEmulatorUrl(emulatorUrl)
  const path = url.pathname.replace(/\/+$/, '')
  const proxyBase = `${url.host}${path}/v2`
  config.wsProxy = (host, port) => `${proxyBase}?address=${host}:${port}`
  config.useSecureWebSocket = url.protocol === 'https:'
  config.pipelineConnect = false
  config.fetchEndpoint = `${url.origin}${path}/sql`
  if (options.webSocketConstructor !== undefined) {
    config.webSocketConstructor = options.webSocketConstructor
  }
}

/** The variable that switches the driver to the emulator. Unset in staging and production. */
export const NEON_EMULATOR_URL_VAR = 'NEON_EMULATOR_URL'
