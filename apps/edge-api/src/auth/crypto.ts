/** Small WebCrypto helpers shared by passwords, sessions and API keys. */

const encoder = new TextEncoder()

export const toBase64Url = (bytes: Uint8Array): string => {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}

export const fromBase64Url = (text: string): Uint8Array => {
  const base64 = text.replaceAll('-', '+').replaceAll('_', '/')
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0))
}

/** `bytes` of CSPRNG output, base64url-encoded. */
export const randomToken = (bytes = 32): string =>
  toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)))

const hex = (buffer: ArrayBuffer): string =>
  Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('')

/** SHA-256 of a UTF-8 string, as lowercase hex (how session tokens and API keys are stored). */
export const sha256Hex = async (text: string): Promise<string> =>
  hex(await crypto.subtle.digest('SHA-256', encoder.encode(text)))

type SubtleWithTimingSafeEqual = typeof crypto.subtle & {
  timingSafeEqual?: (a: ArrayBufferView | ArrayBuffer, b: ArrayBufferView | ArrayBuffer) => boolean
}

/**
 * Constant-time equality. workerd provides `crypto.subtle.timingSafeEqual` (for equal lengths);
 * elsewhere an XOR loop over the full length does the same.
 */
export function timingSafeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = typeof a === 'string' ? encoder.encode(a) : a
  const y = typeof b === 'string' ? encoder.encode(b) : b
  if (x.byteLength !== y.byteLength) return false
  const subtle = crypto.subtle as SubtleWithTimingSafeEqual
  if (typeof subtle.timingSafeEqual === 'function') return subtle.timingSafeEqual(x, y)
  let diff = 0
  for (let i = 0; i < x.byteLength; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0)
  return diff === 0
}
