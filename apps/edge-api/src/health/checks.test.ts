import { describe, expect, it } from 'vitest'
import { redact, secretValues } from '../redact'
import { type CheckResult, overallStatus, runCheck } from './checks'

const r = (status: CheckResult['status']): CheckResult => ({ status, latency_ms: 1 })

describe('runCheck', () => {
  it('times out a probe that never answers and aborts it', async () => {
    let aborted = false
    const result = await runCheck(
      (signal) =>
        new Promise(() => {
          signal.addEventListener('abort', () => {
            aborted = true
          })
        }),
      60,
      [],
    )
    expect(result.status).toBe('error')
    expect(result.error).toBe('timed out after 60 ms')
    expect(result.latency_ms).toBeGreaterThanOrEqual(50)
    expect(aborted).toBe(true)
  })

  it('reports success with a detail, and a failure with secrets removed', async () => {
    expect(await runCheck(async () => 'v1', 1000, [])).toMatchObject({ status: 'ok', detail: 'v1' })
    const failed = await runCheck(
      async () => {
        throw new Error('auth failed for token tok_supersecret at postgres://u:pw1234@h/db')
      },
      1000,
      ['tok_supersecret'],
    )
    expect(failed.status).toBe('error')
    expect(failed.error).toBe('auth failed for token *** at postgres://***@h/db')
  })
})

describe('overallStatus', () => {
  it('is ok when every configured check passes, ignoring unconfigured ones', () => {
    expect(overallStatus([r('ok'), r('not_configured')])).toBe('ok')
  })
  it('is degraded when some fail and down when all configured fail', () => {
    expect(overallStatus([r('ok'), r('error')])).toBe('degraded')
    expect(overallStatus([r('error'), r('error'), r('not_configured')])).toBe('down')
  })
})

describe('redact', () => {
  it('removes secrets, URL passwords and bearer tokens, and shortens long text', () => {
    const dbUrl = 'postgres://app:p%40ss@db.example/app'
    expect(redact(`bad ${dbUrl}`, [dbUrl])).toBe('bad ***')
    expect(redact('password p@ss rejected', [dbUrl])).toBe('password *** rejected')
    expect(redact('header Bearer abc.def was refused', [])).toBe('header Bearer *** was refused')
    expect(redact('x'.repeat(1000), []).length).toBeLessThanOrEqual(300)
  })

  it('finds secret values among bindings by name', () => {
    const values = secretValues({
      QSTASH_TOKEN: 't',
      ML_NODE_API_KEY: 'k',
      DATABASE_URL: 'd',
      QSTASH_URL: 'public',
      HEALTH_CHECK_TIMEOUT_MS: 5,
    })
    expect(values.sort()).toEqual(['d', 'k', 't'])
  })
})
