import { describe, expect, it } from 'vitest'
import { checkPayload, emailSendSpec, getJobType, JOB_TYPES, listJobTypes } from './definitions'
import { isTerminal, LANES, LONG_LANE, laneFor } from './lanes'
import { workflowRunSpec } from './workflow-run'

describe('job type definitions', () => {
  it('have unique, well-formed names', () => {
    const names = JOB_TYPES.map((s) => s.type)
    expect(new Set(names).size).toBe(names.length)
    for (const name of names) expect(name).toMatch(/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/)
  })

  it('hide test-only types unless asked', () => {
    expect(getJobType('system.flaky', false)).toBeUndefined()
    expect(getJobType('system.flaky', true)?.type).toBe('system.flaky')
    expect(listJobTypes(false)).not.toContain('system.sleep')
    expect(listJobTypes(true)).toContain('system.sleep')
  })

  it('name the field at fault, including unknown and nested fields', () => {
    expect(
      checkPayload(emailSendSpec, { to: 'not-an-email', subject: 's', text: 't' }),
    ).toMatchObject({ ok: false, param: 'to' })
    expect(
      checkPayload(emailSendSpec, { to: ['a@example.com', 'bad'], subject: 's', text: 't' }),
    ).toMatchObject({ ok: false, param: 'to.1' })
    expect(
      checkPayload(emailSendSpec, { to: 'a@example.com', subject: 's', text: 't', cc: 'x' }),
    ).toMatchObject({ ok: false, param: 'cc', message: 'cc: unknown field' })
    expect(checkPayload(emailSendSpec, { to: 'a@example.com', subject: 's' })).toMatchObject({
      ok: false,
      param: 'text',
    })
    expect(
      checkPayload(emailSendSpec, { to: 'a@example.com', subject: 'hi', html: '<p>x</p>' }),
    ).toMatchObject({ ok: true })
  })

  it('map priorities to three lanes; terminal states are final', () => {
    expect(new Set(Object.values(LANES)).size).toBe(3)
    expect(laneFor('high')).toBe(LANES.high)
    expect(isTerminal('succeeded')).toBe(true)
    expect(isTerminal('failed')).toBe(false)
  })
})

describe('workflow.run', () => {
  it('names the workflow and validates its input, naming the field at fault', () => {
    expect(
      checkPayload(workflowRunSpec, { workflow: 'document.summarize', input: { text: 'Hi.' } }),
    ).toEqual({
      ok: true,
      data: {
        workflow: 'document.summarize',
        input: {
          text: 'Hi.',
          summary_sentences: 2,
          max_keywords: 8,
          embedding_model: 'use-lite-512',
          pause_seconds: 1,
        },
      },
    })
    expect(checkPayload(workflowRunSpec, { workflow: 'nope', input: {} })).toMatchObject({
      ok: false,
      param: 'workflow',
    })
    expect(
      checkPayload(workflowRunSpec, { workflow: 'document.summarize', input: { text: ' ' } }),
    ).toMatchObject({ ok: false, param: 'input.text' })
    expect(
      checkPayload(workflowRunSpec, {
        workflow: 'document.summarize',
        input: { text: 'x', pause_seconds: 61 },
      }),
    ).toMatchObject({ ok: false, param: 'input.pause_seconds' })
  })

  it('send long-running types to the long lane, whatever their priority', () => {
    expect(Object.values(LANES)).not.toContain(LONG_LANE)
    const long = JOB_TYPES.filter((t) => t.longRunning).map((t) => t.type)
    expect(long).toEqual([workflowRunSpec.type])
    for (const priority of ['high', 'normal', 'low'] as const) {
      expect(laneFor(priority, true)).toBe(LONG_LANE)
      expect(laneFor(priority, false)).toBe(LANES[priority])
    }
  })
})
