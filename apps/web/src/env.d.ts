/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Base URL of the edge API, e.g. `https://api.example.com`. Default `http://127.0.0.1:3003`. */
  readonly VITE_API_URL?: string
  /** `hash` for CDNs that cannot fall back to index.html on unknown paths; default `history`. */
  readonly VITE_ROUTER_MODE?: 'history' | 'hash'
}

interface ImportMeta {
  readonly env: ImportMetaEnv
}

/**
 * `@synthstack/sdk` takes its types from the edge API's source, whose entry ends with
 * `satisfies ExportedHandler<Env>` (a Cloudflare Workers global). The browser build does not load
 * `@cloudflare/workers-types` (its globals clash with the DOM lib), so the one name is declared
 * here. Only types: nothing of the edge API reaches the bundle.
 */
interface ExportedHandler<_Env = unknown> {
  fetch?: unknown
}
