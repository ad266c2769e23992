import { Client } from '@upstash/qstash'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type QStashEmulator, startQStashEmulator } from './index'
import { type Endpoint, sleep, startEndpoint, waitFor } from './test-support'

let emu: QStashEmulator
let endpoint: Endpoint
let client: Client

beforeAll(async () => {
  // a cron minute lasts 60 s × 0.005 = 300 ms
  emu = await startQStashEmulator({ port: 0, timeScale: 0.005 })
  endpoint = await startEndpoint()
  client = new Client({ baseUrl: emu.url, token: emu.token, retry: false })
})

afterAll(async () => {
  await emu.close()
  await endpoint.close()
})

const byPath = (path: string) => endpoint.deliveries.filter((d) => d.path === path)

describe('schedules', () => {
  it('fires repeatedly on the scaled clock, lists nextScheduleTime, and stops when deleted', async () => {
    const { scheduleId } = await client.schedules.create({
      destination: `${endpoint.url}/tick`,
      cron: '* * * * *',
      body: JSON.stringify({ kind: 'tick' }),
      headers: { 'X-From': 'cron' },
      retries: 2,
    })
    expect(scheduleId).toMatch(/^scd_/)
    const listed = (await client.schedules.list()).find((s) => s.scheduleId === scheduleId)
    expect(listed).toMatchObject({
      cron: '* * * * *',
      destination: `${endpoint.url}/tick`,
      isPaused: false,
      retries: 2,
      method: 'POST',
    })
    // a firing due now may be late by a loaded event loop
    expect(listed?.nextScheduleTime).toBeGreaterThan(Date.now() - 300)
    expect(listed?.nextScheduleTime).toBeLessThanOrEqual(Date.now() + 400)

    await waitFor(() => byPath('/tick').length >= 3, 4000, 'three firings')
    const ticks = byPath('/tick')
    expect(ticks[0]?.headers['upstash-schedule-id']).toBe(scheduleId)
    expect(ticks[0]?.headers['x-from']).toBe('cron')
    expect(JSON.parse(ticks[0]?.body ?? '')).toEqual({ kind: 'tick' })
    expect(new Set(ticks.map((t) => t.headers['upstash-message-id'])).size).toBe(ticks.length)
    // a cron minute is 300 ms here (60 s real would never fit in this test). Firings keep to the
    // virtual clock, so one late firing shortens the next gap: check the mean gap, loosely.
    const meanGap = ((ticks[2]?.at ?? 0) - (ticks[0]?.at ?? 0)) / 2
    expect(meanGap).toBeGreaterThan(150)
    expect(meanGap).toBeLessThan(1_200)

    const got = await client.schedules.get(scheduleId)
    expect(got.lastScheduleTime).toBeGreaterThan(0)
    expect(Object.values(got.lastScheduleStates ?? {})).toContain('SUCCESS')

    await client.schedules.delete(scheduleId)
    const count = byPath('/tick').length
    await sleep(700)
    expect(byPath('/tick').length).toBeLessThanOrEqual(count + 1)
    await expect(client.schedules.get(scheduleId)).rejects.toMatchObject({ status: 404 })
  })

  it('pauses and resumes, and upserts by a given schedule id', async () => {
    const { scheduleId } = await client.schedules.create({
      destination: `${endpoint.url}/paused`,
      cron: '*/2 * * * *',
      scheduleId: 'nightly-report',
    })
    expect(scheduleId).toBe('nightly-report')
    await client.schedules.pause({ schedule: scheduleId })
    const paused = await client.schedules.get(scheduleId)
    expect(paused.isPaused).toBe(true)
    expect(paused.nextScheduleTime).toBeUndefined()
    // The virtual clock starts at real time, so the first firing can land between create and
    // pause; what must hold is that no firing happens once paused.
    if (paused.lastScheduleTime) {
      await waitFor(() => byPath('/paused').length >= 1, 3000, 'the firing before the pause')
    }
    await sleep(100)
    const deliveredBeforePause = byPath('/paused').length
    expect(deliveredBeforePause).toBeLessThanOrEqual(1)
    await sleep(900)
    expect((await client.schedules.get(scheduleId)).lastScheduleTime).toBe(paused.lastScheduleTime)
    expect(byPath('/paused')).toHaveLength(deliveredBeforePause)
    await client.schedules.resume({ schedule: scheduleId })
    await waitFor(
      () => byPath('/paused').length > deliveredBeforePause,
      3000,
      'a firing after resume',
    )
    // same id again updates the schedule instead of adding one
    await client.schedules.create({
      destination: `${endpoint.url}/paused`,
      cron: '0 * * * *',
      scheduleId,
    })
    const all = (await client.schedules.list()).filter((s) => s.scheduleId === scheduleId)
    expect(all).toHaveLength(1)
    expect(all[0]?.cron).toBe('0 * * * *')
    await client.schedules.delete(scheduleId)
  })

  it('publishes into a queue and supports CRON_TZ', async () => {
    const { scheduleId } = await client.schedules.create({
      destination: `${endpoint.url}/queued`,
      cron: 'CRON_TZ=Europe/Berlin * * * * *',
      queueName: 'scheduled-q',
    })
    await waitFor(() => byPath('/queued').length >= 1, 3000, 'a queued firing')
    expect((await client.queue({ queueName: 'scheduled-q' }).get()).name).toBe('scheduled-q')
    await client.schedules.delete(scheduleId)
  })

  it('rejects a malformed cron expression with a 400', async () => {
    await expect(
      client.schedules.create({ destination: `${endpoint.url}/x`, cron: 'every minute' }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('invalid cron') })
    await expect(
      client.schedules.create({ destination: `${endpoint.url}/x`, cron: '61 * * * *' }),
    ).rejects.toMatchObject({ status: 400 })
  })
})
