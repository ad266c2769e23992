/** Build-time settings, read once. Vite replaces `import.meta.env.VITE_*` when it builds. */

export const DEFAULT_API_URL = 'http://127.0.0.1:3003'

/** Strip trailing slashes so `${apiUrl}/health` never has a double slash. */
export function normaliseBaseUrl(url: string | undefined): string {
  const trimmed = (url ?? '').trim()
  return (trimmed === '' ? DEFAULT_API_URL : trimmed).replace(/\/+$/, '')
}

export const apiUrl = normaliseBaseUrl(import.meta.env.VITE_API_URL)

export const routerMode: 'history' | 'hash' =
  import.meta.env.VITE_ROUTER_MODE === 'hash' ? 'hash' : 'history'
