import { describe, expect, it } from 'vitest'
import { compileRetryDelay, defaultBackoffMs, parseDuration } from './duration'

describe('parseDuration', () => {
  it('reads QStash durations', () => {
    expect(parseDuration('50s')).toBe(50_000)
    expect(parseDuration('10m')).toBe(600_000)
    expect(parseDuration('1d10h30m')).toBe(86_400_000 + 36_000_000 + 1_800_000)
    expect(parseDuration('1.5h')).toBe(5_400_000)
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('0')).toBe(0)
  })

  it('rejects what is not a duration', () => {
    for (const bad of ['', '10', 'soon', '5x', '-5s', '1h x', 's', '1h1', '1.2.3s']) {
      expect(parseDuration(bad), bad).toBeUndefined()
    }
  })
})

describe('retry delays', () => {
  it('default backoff is min(86400, e^(2.5n)) seconds', () => {
    expect(defaultBackoffMs(1)).toBeCloseTo(Math.exp(2.5) * 1000)
    expect(Math.round(defaultBackoffMs(2) / 1000)).toBe(148)
    expect(defaultBackoffMs(5)).toBe(86_400_000)
  })

  it('evaluates expressions over retried', () => {
    expect(compileRetryDelay('1000')(3)).toBe(1000)
    expect(compileRetryDelay('1000 * (1 + retried)')(2)).toBe(3000)
    expect(compileRetryDelay('pow(2, retried) * 1000')(3)).toBe(8000)
    expect(compileRetryDelay('max(1000, pow(2, retried) * 100)')(1)).toBe(1000)
    expect(
      compileRetryDelay(
        'min(exp(retried), 5) + floor(1.7) + ceil(0.2) + round(0.5) + abs(-1) + sqrt(4)',
      )(0),
    ).toBe(7)
    expect(compileRetryDelay('-5')(0)).toBe(0)
  })

  it('rejects malformed or unsafe expressions', () => {
    for (const bad of [
      'pow(2,',
      'foo(1)',
      'process.exit(1)',
      '1 +',
      'pow(1)',
      '2 ** 3',
      'retried;',
    ]) {
      expect(() => compileRetryDelay(bad), bad).toThrow()
    }
  })
})
