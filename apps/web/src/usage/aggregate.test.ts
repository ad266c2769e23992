import { describe, expect, it } from 'vitest'
import { budgetView, groupBy, lastDays, perDay, totals, type UsageDay } from './aggregate'

const KEY = '5b0b8a8e-8f4b-4a57-9a53-1f6f0d3c9a11'
const row = (r: Partial<UsageDay>): UsageDay => ({
  date: '2026-05-01',
  model: 'use-lite',
  api_key_id: null,
  requests: 1,
  errors: 0,
  tokens_in: 10,
  tokens_out: 0,
  avg_latency_ms: 10,
  ...r,
})
const rows = [
  row({ requests: 2, tokens_in: 100, avg_latency_ms: 10 }),
  row({ api_key_id: KEY, requests: 6, tokens_in: 600, errors: 1, avg_latency_ms: 30 }),
  row({
    date: '2026-05-03',
    model: 'bge-small',
    api_key_id: KEY,
    requests: 2,
    tokens_in: 50,
    tokens_out: 5,
  }),
]

describe('usage aggregates', () => {
  it('totals with a request-weighted mean latency', () => {
    expect(totals(rows)).toEqual({
      requests: 10,
      errors: 1,
      tokens_in: 750,
      tokens_out: 5,
      tokens: 755,
      avg_latency_ms: 22, // (2*10 + 6*30 + 2*10) / 10
    })
    expect(totals([]).avg_latency_ms).toBe(0)
  })

  it('groups by model and by key, biggest first', () => {
    expect(groupBy(rows, 'model').map((g) => [g.id, g.tokens])).toEqual([
      ['use-lite', 700],
      ['bge-small', 55],
    ])
    expect(groupBy(rows, 'api_key_id').map((g) => [g.id, g.requests])).toEqual([
      [KEY, 8],
      [null, 2],
    ])
  })

  it('fills every day of the range', () => {
    expect(perDay(rows, '2026-04-30', '2026-05-03')).toEqual([
      { date: '2026-04-30', requests: 0, tokens: 0 },
      { date: '2026-05-01', requests: 8, tokens: 700 },
      { date: '2026-05-02', requests: 0, tokens: 0 },
      { date: '2026-05-03', requests: 2, tokens: 55 },
    ])
  })

  it('reads the budget: none, unknown, ok, warn, over', () => {
    const b = { month: '2026-05', plan: 'free' as const, resets_at: '', monthly_tokens: 1000 }
    expect(budgetView({ ...b, monthly_tokens: 0, used_tokens: 5 })).toMatchObject({
      unlimited: true,
    })
    expect(budgetView({ ...b, used_tokens: null })).toMatchObject({
      percent: null,
      unlimited: false,
    })
    expect(budgetView({ ...b, used_tokens: 125 })).toMatchObject({ percent: 12.5, level: 'ok' })
    expect(budgetView({ ...b, used_tokens: 800 }).level).toBe('warn')
    expect(budgetView({ ...b, used_tokens: 1500 })).toMatchObject({ percent: 100, level: 'over' })
  })

  it('computes the last n UTC days', () => {
    expect(lastDays(7, new Date('2026-05-10T23:30:00Z'))).toEqual({
      start_date: '2026-05-04',
      end_date: '2026-05-10',
    })
  })
})
