import { base64url, SignJWT } from 'jose'

export interface TokenOptions {
  url: string
  body: string
  key: string
  /** Seconds from now; negative for an expired token. Default 300, as QStash does. */
  expiresIn?: number
  issuer?: string
}

/** Signs a delivery the way QStash does: HS256 JWT, iss "Upstash", sub = URL, body = SHA-256. */
export async function signDelivery(options: TokenOptions): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(options.body))
  const now = Math.floor(Date.now() / 1000)
  const expiresIn = options.expiresIn ?? 300
  return new SignJWT({ body: base64url.encode(new Uint8Array(digest)) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(options.issuer ?? 'Upstash')
    .setSubject(options.url)
    .setIssuedAt(now - 1)
    .setNotBefore(Math.min(now, now + expiresIn - 1))
    .setExpirationTime(now + expiresIn)
    .setJti(`jwt_${crypto.randomUUID()}`)
    .sign(new TextEncoder().encode(options.key))
}
