/**
 * The `Upstash-Signature` JWT that QStash puts on every delivery: HS256 over the standard
 * `header.payload` with `iss: "Upstash"`, `sub` = destination URL, `body` = base64url SHA-256 of
 * the body, and `iat`/`nbf`/`exp` (5 minutes) in real time, as `Receiver.verify` expects.
 *
 * Signed with node:crypto's HMAC directly: one synchronous HMAC per delivery instead of a
 * WebCrypto key import and job per delivery (the signature is checked with jose in the tests).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto'

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

export class Signer {
  constructor(private readonly signingKey: string) {}

  sign(url: string, body: Uint8Array): string {
    const now = Math.floor(Date.now() / 1000)
    const claims = {
      iss: 'Upstash',
      sub: url,
      exp: now + 300,
      nbf: now,
      iat: now,
      jti: `jwt_${randomBytes(12).toString('hex')}`,
      body: createHash('sha256').update(body).digest('base64url'),
    }
    const unsigned = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
    const signature = createHmac('sha256', this.signingKey).update(unsigned).digest('base64url')
    return `${unsigned}.${signature}`
  }
}
