import { describe, expect, it } from 'vitest'
import { ApiError } from '../api/client'
import { formErrors, generalMessage } from './field-errors'

const err = (init: Partial<ConstructorParameters<typeof ApiError>[0]>) =>
  new ApiError({ status: 400, type: 'invalid_request_error', message: 'x', url: '', ...init })

describe('formErrors', () => {
  it('puts a validation error beside its field, without the API prefix', () => {
    const e = err({
      param: 'password',
      message: "Invalid body parameter 'password': must be at least 10 characters",
    })
    expect(formErrors(e, ['email', 'password'])).toEqual({
      fields: { password: 'Must be at least 10 characters' },
      general: null,
    })
    const taken = err({
      status: 409,
      param: 'email',
      message: 'An account with this email already exists.',
    })
    expect(formErrors(taken, ['email']).fields.email).toBe(
      'An account with this email already exists.',
    )
  })

  it('keeps errors about no form field general', () => {
    const wrong = err({
      status: 401,
      code: 'invalid_credentials',
      message: 'Wrong email or password.',
    })
    expect(formErrors(wrong, ['email', 'password'])).toEqual({
      fields: {},
      general: 'Wrong email or password.',
    })
    const other = err({ param: 'workspace_id', message: 'No such workspace.' })
    expect(formErrors(other, ['email']).general).toBe('No such workspace.')
  })
})

describe('generalMessage', () => {
  it('tells how long to wait after too many failed logins', () => {
    const e = err({ status: 429, code: 'too_many_login_attempts', retryAfter: 600 })
    expect(generalMessage(e)).toBe(
      'Too many failed sign-in attempts for this account. Try again in 10 minutes.',
    )
    expect(generalMessage(err({ status: 429, code: 'too_many_login_attempts' }))).toBe(
      'Too many failed sign-in attempts for this account.',
    )
  })

  it('names the API origin when it cannot be reached', () => {
    const e = err({
      status: 0,
      type: 'connection_error',
      code: 'unreachable',
      url: 'http://127.0.0.1:9/v1/auth/login',
    })
    expect(generalMessage(e)).toBe(
      'Cannot reach the API at http://127.0.0.1:9. Check your connection.',
    )
    expect(generalMessage(err({ status: 503, code: 'login_unavailable' }))).toMatch(/unavailable/)
  })
})
