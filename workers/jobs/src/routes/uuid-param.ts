import { JobsError } from '../errors'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * `value` when it is a UUID; otherwise a 400 naming `param` that QStash does not retry (a
 * malformed signed URL stays malformed).
 */
export function requireUuid(value: string | undefined, param: string): string {
  if (value !== undefined && UUID.test(value)) return value
  throw new JobsError(`${param} must be a UUID`, {
    status: 400,
    type: 'invalid_request_error',
    code: `invalid_${param}`,
    param,
    nonRetryable: true,
  })
}
