/**
 * Webhook signing secrets at rest: AES-256-GCM under SHA-256(WEBHOOK_SECRETS_KEY), stored as
 * `v1.<iv>.<ciphertext>` (base64). The edge API seals them; the jobs worker opens endpoint
 * secrets to sign outbound deliveries. Web Crypto only (Workers and Node).
 */

/** Used outside production when WEBHOOK_SECRETS_KEY is unset; production refuses to run on it. */
export const DEV_WEBHOOK_SECRETS_KEY = 'synthstack-development-webhook-secrets-key'

/** The events a workspace can subscribe an outbound endpoint to. */
export const WEBHOOK_EVENTS = ['job.succeeded', 'job.failed', 'job.dead'] as const
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number]

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))
const unb64 = (text: string) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0))

/** Written without the `CryptoKey` name, which Node's type definitions do not declare globally. */
type AesKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>

const keys = new Map<string, Promise<AesKey>>()

export function secretsKey(material: string): Promise<AesKey> {
  let key = keys.get(material)
  if (!key) {
    key = crypto.subtle
      .digest('SHA-256', new TextEncoder().encode(material))
      .then((raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']))
    keys.set(material, key)
  }
  return key
}

export async function sealSecret(material: string, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv },
    await secretsKey(material),
    new TextEncoder().encode(secret),
  )
  return `v1.${b64(iv)}.${b64(new Uint8Array(sealed))}`
}

export async function openSecret(material: string, stored: string): Promise<string> {
  const [version, iv, data] = stored.split('.')
  if (version !== 'v1' || !iv || !data) throw new Error('unknown secret format')
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: unb64(iv) },
    await secretsKey(material),
    unb64(data),
  )
  return new TextDecoder().decode(plain)
}

/** A new random signing secret in Standard Webhooks' `whsec_` + base64 form. */
export function newWebhookSecret(): string {
  return `whsec_${b64(crypto.getRandomValues(new Uint8Array(32)))}`
}
