import type { ApiError } from '../api/client'
import { formatWait } from '../ui/format'

export interface FormErrors {
  /** Messages for the form's own fields, by the envelope's `param`. */
  fields: Record<string, string>
  /** Everything that is not about one field (wrong password, throttling, network). */
  general: string | null
}

/**
 * Spreads an API error over a form: a `param` naming one of `fields` goes beside that field
 * ("Invalid body parameter 'password': must be…" → "Must be…"); anything else is general.
 */
export function formErrors(error: ApiError, fields: readonly string[]): FormErrors {
  const param = error.param?.split('.')[0] ?? null
  if (param && fields.includes(param)) {
    return { fields: { [param]: fieldMessage(error.message) }, general: null }
  }
  return { fields: {}, general: generalMessage(error) }
}

function fieldMessage(message: string): string {
  const match = /^Invalid [a-z]+ parameter '[^']*': (.+)$/s.exec(message)
  const text = (match?.[1] ?? message).trim()
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/** A sentence for the user, with the wait when the API sent `Retry-After`. */
export function generalMessage(error: ApiError): string {
  if (error.code === 'too_many_login_attempts' || error.code === 'rate_limit_exceeded') {
    const wait = error.retryAfter !== null ? ` Try again in ${formatWait(error.retryAfter)}.` : ''
    return error.code === 'too_many_login_attempts'
      ? `Too many failed sign-in attempts for this account.${wait}`
      : `Too many requests.${wait}`
  }
  if (error.code === 'login_unavailable') {
    return 'Signing in is briefly unavailable. Please try again in a moment.'
  }
  if (error.isConnectionError) {
    return error.code === 'timeout'
      ? 'The API did not answer in time. Please try again.'
      : `Cannot reach the API at ${new URL(error.url || 'http://x').origin}. Check your connection.`
  }
  return error.message
}
