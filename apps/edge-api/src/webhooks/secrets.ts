import { DEV_WEBHOOK_SECRETS_KEY, newWebhookSecret, openSecret, sealSecret } from '@synthstack/jobs'
import type { Config } from '../config'
import { ApiError } from '../errors'

/** WEBHOOK_SECRETS_KEY, or the fixed development key outside production (shared with the worker). */
function materialFor(config: Config): string {
  const material =
    config.WEBHOOK_SECRETS_KEY ??
    (config.ENVIRONMENT === 'production' ? null : DEV_WEBHOOK_SECRETS_KEY)
  if (!material) {
    throw new ApiError(503, {
      type: 'server_error',
      code: 'webhooks_not_configured',
      message: 'Webhooks are not configured (WEBHOOK_SECRETS_KEY is unset).',
    })
  }
  return material
}

/** `v1.<iv>.<ciphertext>` (base64): what the database stores instead of a signing secret. */
export function encryptSecret(config: Config, secret: string): Promise<string> {
  return sealSecret(materialFor(config), secret)
}

export function decryptSecret(config: Config, stored: string): Promise<string> {
  return openSecret(materialFor(config), stored)
}

/** A new random signing secret; Standard Webhooks' `whsec_` + base64 form for every scheme. */
export const newSecret = newWebhookSecret
