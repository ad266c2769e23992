import { fromBase64Url, timingSafeEqual, toBase64Url } from './crypto'

/**
 * Password hashing: PBKDF2-HMAC-SHA256 through WebCrypto with a 16-byte random salt per user.
 * Stored as `pbkdf2_sha256$<iterations>$<salt b64url>$<hash b64url>`, so the iteration count can
 * change without breaking old hashes (`needsRehash` says when to upgrade one at login).
 * workerd refuses more than 100,000 iterations (docs/auth.md).
 */
export const PBKDF2_MAX_ITERATIONS = 100_000
const SCHEME = 'pbkdf2_sha256'
const SALT_BYTES = 16
const HASH_BITS = 256

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(password.normalize('NFKC')),
    'PBKDF2',
    false,
    ['deriveBits'],
  )
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: new Uint8Array(salt), iterations },
    key,
    HASH_BITS,
  )
  return new Uint8Array(bits)
}

export async function hashPassword(password: string, iterations: number): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES))
  const hash = await derive(password, salt, iterations)
  return `${SCHEME}$${iterations}$${toBase64Url(salt)}$${toBase64Url(hash)}`
}

interface Parsed {
  iterations: number
  salt: Uint8Array
  hash: Uint8Array
}

const parse = (stored: string): Parsed | null => {
  const [scheme, iter, salt, hash] = stored.split('$')
  const iterations = Number(iter)
  if (scheme !== SCHEME || !salt || !hash) return null
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > PBKDF2_MAX_ITERATIONS) {
    return null
  }
  try {
    return { iterations, salt: fromBase64Url(salt), hash: fromBase64Url(hash) }
  } catch {
    return null
  }
}

/** Checks a password in constant time. A malformed stored hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored)
  if (!parsed) return false
  const candidate = await derive(password, parsed.salt, parsed.iterations)
  return timingSafeEqual(candidate, parsed.hash)
}

export const needsRehash = (stored: string, iterations: number): boolean =>
  parse(stored)?.iterations !== iterations

let dummy: Promise<string> | undefined
/**
 * Spends the same work as a real check, for logins with an unknown email, so response time
 * does not reveal which emails have accounts.
 */
export async function burnPasswordCheck(password: string, iterations: number): Promise<void> {
  dummy ??= hashPassword('synthstack-dummy-password', iterations)
  await verifyPassword(password, await dummy)
}
