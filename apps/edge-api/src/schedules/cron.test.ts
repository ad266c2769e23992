import { describe, expect, it } from 'vitest'
import { nextRuns, parseCron } from './cron'

describe('cron expressions', () => {
  it('accepts five fields, ranges, steps and a CRON_TZ prefix', () => {
    for (const ok of [
      '* * * * *',
      '*/5 9-17 * * 1-5',
      '0 0 1 1 *',
      'CRON_TZ=Europe/Berlin 0 6 * * *',
    ])
      expect(parseCron(ok), ok).toMatchObject({ ok: true })
  })

  it('refuses what QStash refuses, with a reason', () => {
    for (const bad of ['', '* * * *', '0 * * * * *', '61 * * * *', '* * 32 * *', 'every minute'])
      expect(parseCron(bad), bad).toMatchObject({ ok: false, message: expect.any(String) })
    expect(parseCron('CRON_TZ=Not/AZone * * * * *')).toMatchObject({ ok: false })
    expect(parseCron('0 0 30 2 *')).toMatchObject({ ok: false })
  })

  it('lists the next firing times in order', () => {
    const from = new Date('2030-01-01T00:00:30Z')
    const runs = nextRuns('*/15 * * * *', 3, from).map((d) => d.toISOString())
    expect(runs).toEqual([
      '2030-01-01T00:15:00.000Z',
      '2030-01-01T00:30:00.000Z',
      '2030-01-01T00:45:00.000Z',
    ])
  })
})
