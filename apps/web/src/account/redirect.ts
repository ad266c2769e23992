/**
 * Where to go after signing in: the `redirect` query value when it is a path inside this app,
 * else `fallback`. Refuses other origins (`//evil.example`, `/\evil`, `https://…`) so the login
 * page cannot be used as an open redirect.
 */
export function safeRedirect(value: unknown, fallback = '/'): string {
  const raw = Array.isArray(value) ? value[0] : value
  if (typeof raw !== 'string' || raw === '') return fallback
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return fallback
  for (let i = 0; i < raw.length; i++) if (raw.charCodeAt(i) < 0x20) return fallback
  try {
    const url = new URL(raw, 'http://app.invalid')
    if (url.origin !== 'http://app.invalid') return fallback
    return url.pathname + url.search + url.hash
  } catch {
    return fallback
  }
}
