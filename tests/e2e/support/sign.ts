import { createHash, randomUUID } from 'node:crypto'
import { base64url, SignJWT } from 'jose'

/** Signs a delivery as QStash does: HS256 JWT, iss Upstash, sub = URL, body = SHA-256 (b64url). */
export async function signDelivery(options: {
  url: string
  body: string
  key: string
  expiresIn?: number
}): Promise<string> {
  const digest = createHash('sha256').update(options.body).digest()
  const now = Math.floor(Date.now() / 1000)
  const expiresIn = options.expiresIn ?? 300
  return new SignJWT({ body: base64url.encode(new Uint8Array(digest)) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('Upstash')
    .setSubject(options.url)
    .setIssuedAt(now - Math.max(1, -expiresIn + 1))
    .setNotBefore(Math.min(now, now + expiresIn - 1))
    .setExpirationTime(now + expiresIn)
    .setJti(`jwt_${randomUUID()}`)
    .sign(new TextEncoder().encode(options.key))
}
