import type { Config } from './config'

const SECRET_KEYS = [
  'QSTASH_CURRENT_SIGNING_KEY',
  'QSTASH_NEXT_SIGNING_KEY',
  'DATABASE_URL',
  'ML_NODE_API_KEY',
  'UPSTASH_REDIS_REST_TOKEN',
  'RESEND_API_KEY',
  'QSTASH_TOKEN',
] as const

/** Removes configured secret values and URL credentials from text headed for a log line. */
export function redact(text: string, config: Config): string {
  let out = text
  for (const key of SECRET_KEYS) {
    const secret = config[key]
    if (secret && secret.length >= 4) out = out.split(secret).join(`[${key}]`)
  }
  return out
    .replace(/(\/\/[^/\s:@]+):[^@\s/]+@/g, '$1:***@')
    .replace(/(bearer\s+)[\w.~+/=-]+/gi, '$1***')
}
