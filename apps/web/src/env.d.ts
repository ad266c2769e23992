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
