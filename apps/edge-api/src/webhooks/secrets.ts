import type { Config } from '../config'
import { ApiError } from '../errors'

const DEV_KEY = 'synthstack-development-webhook-secrets-key'
// The WebCrypto key type, spelled so that both the Workers and the Node type libraries accept it.
type AesKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>
const keys = new WeakMap<Config, Promise<AesKey>>()

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))
const unb64 = (text: string) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0))

/** AES-256-GCM key from WEBHOOK_SECRETS_KEY (SHA-256 of it); a fixed dev key outside production. */
function keyFor(config: Config): Promise<AesKey> {
  let key = keys.get(config)
  if (!key) {
    const material =
      config.WEBHOOK_SECRETS_KEY ?? (config.ENVIRONMENT === 'production' ? null : DEV_KEY)
    if (!material) {
      throw new ApiError(503, {
        type: 'server_error',
        code: 'webhooks_not_configured',
        message: 'Webhooks are not configured (WEBHOOK_SECRETS_KEY is unset).',
      })
    }
    key = crypto.subtle
      .digest('SHA-256', new TextEncoder().encode(material))
      .then((raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']))
    keys.set(config, key)
  }
  return key
}

/** `v1.<iv>.<ciphertext>` (base64): what the database stores instead of a signing secret. */
export async function encryptSecret(config: Config, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv },
    await keyFor(config),
    new TextEncoder().encode(secret),
  )
  return `v1.${b64(iv)}.${b64(new Uint8Array(sealed))}`
}

export async function decryptSecret(config: Config, stored: string): Promise<string> {
  const [version, iv, data] = stored.split('.')
  if (version !== 'v1' || !iv || !data) throw new Error('unknown secret format')
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: unb64(iv) },
    await keyFor(config),
    unb64(data),
  )
  return new TextDecoder().decode(plain)
}

/** A new random signing secret; Standard Webhooks' `whsec_` + base64 form for every scheme. */
export function newSecret(): string {
  return `whsec_${b64(crypto.getRandomValues(new Uint8Array(32)))}`
}
