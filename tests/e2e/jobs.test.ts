import { Client } from '@upstash/qstash'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Json, jobsClient } from './support/client'
import { type JobsStack, startJobsStack } from './support/jobs-stack'
import { signDelivery } from './support/sign'

// The real path end to end: edge API (wrangler dev) → QStash emulator → jobs worker (wrangler
// dev) → handler → Postgres row and Redis events, with QStash time scaled 100× down.

let s: JobsStack
let client: ReturnType<typeof jobsClient>
let workspaceId: string

beforeAll(async () => {
  s = await startJobsStack({ timeScale: 0.01 })
  const ws = await s.newWorkspace()
  workspaceId = ws.workspaceId
  client = jobsClient(s.api.url, ws.apiKey)
})

afterAll(async () => {
  await s?.close()
})

describe('jobs API → QStash → worker', () => {
  it('runs a job to success and records its attempt', async () => {
    const created = await client.enqueue({ type: 'system.echo', payload: { message: 'hi' } })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ object: 'job', status: 'queued', priority: 'normal' })
    const done = await client.waitFor(created.body.id, ['succeeded'])
    expect(done).toMatchObject({
      result: { message: 'hi' },
      attempts: 1,
      progress: 100,
      attempts_log: [{ attempt: 1, status: 'succeeded' }],
    })
  })

  it('refuses a bad payload at enqueue with a 400 naming the field', async () => {
    const bad = await client.enqueue({ type: 'email.send', payload: { to: 'nope', subject: 's' } })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatchObject({ code: 'invalid_parameter', param: 'payload.to' })
    const unknown = await client.enqueue({ type: 'no.such', payload: {} })
    expect(unknown.body.error).toMatchObject({ param: 'type' })
    const noAuth = await fetch(`${s.api.url}/v1/jobs`)
    expect(noAuth.status).toBe(401)
  })

  it('retries a failing job with backoff, then succeeds', async () => {
    const { body } = await client.enqueue({
      type: 'system.flaky',
      payload: { fail_times: 2 },
      max_attempts: 4,
    })
    const done = await client.waitFor(body.id, ['succeeded'])
    expect(done.attempts).toBe(3)
    expect(done.attempts_log.map((a: { status: string }) => a.status)).toEqual([
      'failed',
      'failed',
      'succeeded',
    ])
  })

  it('retries until dead with the last error; a replay keeps the history and ends dead again', async () => {
    // fail_times 3 with 2 attempts: dead. The replay's attempts count on from Upstash-Retried 0,
    // so it fails again unless fail_times is reached: use a job that fails exactly twice.
    const { body } = await client.enqueue({
      type: 'system.flaky',
      payload: { fail_times: 2 },
      max_attempts: 2,
    })
    const dead = await client.waitFor(body.id, ['dead'])
    expect(dead.error).toMatch(/attempt 2 of 2 fails/)
    expect(dead.attempts_log).toHaveLength(2)
    const notDead = await client.call(`/v1/jobs/${body.id}/retry`, { method: 'POST' })
    expect(notDead.status).toBe(200)
    const again = await client.waitFor(body.id, ['dead', 'succeeded'])
    // Upstash-Retried restarts at 0 on the new message, so it fails twice more: still dead, with
    // four attempts logged in order.
    expect(again.status).toBe('dead')
    expect(again.attempts_log.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2, 3, 4])
    const twice = await client.call(`/v1/jobs/${body.id}/retry`, { method: 'POST' })
    expect(twice.status).toBe(200)
    const cancelled = await client.call(`/v1/jobs/${body.id}/retry`, { method: 'POST' })
    expect(cancelled.status).toBe(409)
  })

  it('runs a delayed job no earlier than its delay (time-scaled)', async () => {
    const started = Date.now()
    // 100 s of QStash time at scale 0.01 = 1 s.
    const { body } = await client.enqueue({
      type: 'system.echo',
      payload: { message: 'later' },
      delay: 100,
    })
    expect(body.run_at).not.toBeNull()
    const done = await client.waitFor(body.id, ['succeeded'])
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(new Date(done.started_at).getTime() - started).toBeGreaterThanOrEqual(900)
  })

  it('streams progress over SSE in order, ending on the terminal state', async () => {
    const { body } = await client.enqueue({
      type: 'system.sleep',
      payload: { ms: 600, steps: 4 },
      priority: 'high',
    })
    const response = await fetch(`${s.api.url}/v1/jobs/${body.id}/events`, {
      headers: { authorization: client.auth },
    })
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    const text = await response.text()
    const events = text
      .split('\n\n')
      .filter((block) => block.includes('data:'))
      .map((block) => {
        const id = /^id: (.*)$/m.exec(block)?.[1]
        const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}')
        return { id: Number(id), ...data }
      })
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i))
    expect(events[0]).toMatchObject({ type: 'status', status: 'running' })
    expect(events.filter((e) => e.type === 'progress').map((e) => e.progress)).toEqual([25, 50, 75])
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded', progress: 100 })
  })

  it('answers the same idempotency key with the first job', async () => {
    const key = `k-${Date.now()}`
    const first = await client.enqueue({
      type: 'system.echo',
      payload: { message: 'once' },
      idempotency_key: key,
    })
    const second = await client.enqueue({
      type: 'system.echo',
      payload: { message: 'once' },
      idempotency_key: key,
    })
    expect(first.status).toBe(201)
    expect(second.status).toBe(200)
    expect(second.body.id).toBe(first.body.id)
  })

  it('lists jobs by status and type, only in the caller workspace', async () => {
    const list = await client.call('/v1/jobs?type=system.echo&status=succeeded&limit=100')
    expect(list.status).toBe(200)
    expect(list.body.data.length).toBeGreaterThan(0)
    for (const job of list.body.data)
      expect(job).toMatchObject({ type: 'system.echo', status: 'succeeded' })
    const other = await s.newWorkspace()
    const theirs = jobsClient(s.api.url, other.apiKey)
    expect((await theirs.call('/v1/jobs')).body.data).toEqual([])
    expect((await theirs.get(list.body.data[0].id)).status).toBe(404)
    expect(workspaceId).not.toBe(other.workspaceId)
  })

  it('lets a high-priority job overtake a backlog of low ones', async () => {
    // The low lane is held while its backlog builds (the first test created the lanes), so the
    // high job can only finish before them if it travels in a lane of its own.
    const lowLane = new Client({ baseUrl: s.qstash.url, token: s.qstash.token }).queue({
      queueName: 'jobs-low',
    })
    await lowLane.pause()
    try {
      const lows = await Promise.all(
        Array.from({ length: 6 }, () =>
          client.enqueue({ type: 'system.sleep', payload: { ms: 50 }, priority: 'low' }),
        ),
      )
      const high = await client.enqueue({
        type: 'system.echo',
        payload: { message: 'urgent' },
        priority: 'high',
      })
      const highDone = await client.waitFor(high.body.id, ['succeeded'])
      for (const low of lows) expect((await client.get(low.body.id)).body.status).toBe('queued')
      await lowLane.resume()
      const lowDone = await Promise.all(lows.map((l) => client.waitFor(l.body.id, ['succeeded'])))
      const highFinished = new Date(highDone.finished_at).getTime()
      for (const low of lowDone)
        expect(new Date(low.started_at).getTime()).toBeGreaterThan(highFinished)
    } finally {
      await lowLane.resume()
    }
  })

  it('a duplicate delivery of a finished job answers 200 and changes nothing', async () => {
    const { body } = await client.enqueue({ type: 'system.echo', payload: { message: 'dup' } })
    const done = await client.waitFor(body.id, ['succeeded'])
    const url = `${s.worker.url}/jobs/system.echo?job_id=${body.id}`
    const payload = JSON.stringify({ message: 'dup' })
    const signature = await signDelivery({ url, body: payload, key: s.qstash.currentSigningKey })
    const again = await fetch(url, {
      method: 'POST',
      body: payload,
      headers: { 'upstash-signature': signature, 'upstash-message-id': 'msg_dup' },
    })
    expect(again.status).toBe(200)
    expect(await again.json()).toMatchObject({ duplicate: true, status: 'succeeded' })
    const after = (await client.get(body.id)).body
    expect(after).toEqual(done)
  })

  it('refuses forged, tampered and stale signatures on the job route (401, nothing runs)', async () => {
    const { body } = await client.enqueue({ type: 'system.echo', payload: { message: 'sig' } })
    await client.waitFor(body.id, ['succeeded'])
    const url = `${s.worker.url}/jobs/system.echo?job_id=${body.id}`
    const payload = JSON.stringify({ message: 'sig' })
    const key = s.qstash.currentSigningKey
    const attempts: [string, string, string][] = [
      [
        'forged',
        await signDelivery({ url, body: payload, key: 'sig_attacker_0000000000' }),
        payload,
      ],
      ['tampered', await signDelivery({ url, body: payload, key }), '{"message":"evil"}'],
      ['stale', await signDelivery({ url, body: payload, key, expiresIn: -60 }), payload],
      ['other job', await signDelivery({ url: `${url}x`, body: payload, key }), payload],
    ]
    for (const [name, signature, sent] of attempts) {
      const response = await fetch(url, {
        method: 'POST',
        body: sent,
        headers: { 'upstash-signature': signature },
      })
      expect(response.status, name).toBe(401)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        'invalid_signature',
      )
    }
    expect((await client.get(body.id)).body.attempts).toBe(1)
  })

  it('cancels a delayed job; it never runs', async () => {
    const { body } = await client.enqueue({
      type: 'system.echo',
      payload: { message: 'never' },
      delay: 300,
    })
    // 300 s of QStash time is 3 s here: room for the cancel call on a loaded machine.
    const cancelled = await client.call(`/v1/jobs/${body.id}/cancel`, { method: 'POST' })
    expect(cancelled.status).toBe(200)
    expect(cancelled.body.status).toBe('cancelled')
    await new Promise((r) => setTimeout(r, 3500))
    const after = (await client.get(body.id)).body
    expect(after).toMatchObject({ status: 'cancelled', attempts: 0 })
    expect((await client.call(`/v1/jobs/${body.id}/cancel`, { method: 'POST' })).status).toBe(409)
  })

  it('loses nothing and runs nothing twice when QStash restarts mid-backlog of 500 jobs', async () => {
    // Hold the lane while the backlog builds, then let it run and restart QStash part-way.
    // (One job first, so the API has created its lanes.)
    const warm = await client.enqueue({ type: 'system.noop', payload: {} })
    await client.waitFor(warm.body.id, ['succeeded'])
    const lane = new Client({ baseUrl: s.qstash.url, token: s.qstash.token }).queue({
      queueName: 'jobs-normal',
    })
    await lane.pause()
    const ids: string[] = []
    for (let i = 0; i < 500; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: 25 }, (_, j) =>
          client.enqueue({ type: 'system.noop', payload: { data: i + j } }),
        ),
      )
      for (const r of batch) {
        expect(r.status).toBe(201)
        ids.push(r.body.id)
      }
    }
    await lane.resume()
    // Let part of the backlog run, then stop QStash gracefully and start it again.
    const count = async (status: string) => {
      const rows = (await s.sql.query(
        'select count(*)::int as n from jobs where id = any($1::uuid[]) and status = $2',
        [ids, status],
      )) as { n: number }[]
      return rows[0]?.n ?? 0
    }
    const deadline = Date.now() + 60_000
    while ((await count('succeeded')) < 50 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
    }
    await s.stopQStash()
    const midway = await count('succeeded')
    expect(midway).toBeLessThan(500)
    await s.startQStash()
    while ((await count('succeeded')) < 500 && Date.now() < deadline + 60_000) {
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(await count('succeeded')).toBe(500)
    const attempts = (await s.sql.query(
      `select count(*)::int as n from job_attempts where job_id = any($1::uuid[])`,
      [ids],
    )) as { n: number }[]
    expect(attempts[0]?.n).toBe(500)
  })
})

describe('cron schedules (QStash schedules, time-scaled: a cron minute lasts 0.6 s)', () => {
  const jobsOf = async (c: ReturnType<typeof jobsClient>, scheduleId: string) => {
    const list = await c.call('/v1/jobs?type=system.echo&limit=100')
    return (list.body.data as Json[]).filter((j) => j.schedule_id === scheduleId)
  }

  it('refuses a bad cron expression or payload with a 400 naming the field', async () => {
    const badCron = await client.call('/v1/schedules', {
      method: 'POST',
      body: JSON.stringify({ cron: '61 * * * *', type: 'system.echo', payload: { message: 'x' } }),
    })
    expect(badCron.status).toBe(400)
    expect(badCron.body.error).toMatchObject({ code: 'invalid_parameter', param: 'cron' })
    const sixFields = await client.call('/v1/schedules', {
      method: 'POST',
      body: JSON.stringify({ cron: '0 * * * * *', type: 'system.echo', payload: { message: 'x' } }),
    })
    expect(sixFields.body.error).toMatchObject({ param: 'cron' })
    const badPayload = await client.call('/v1/schedules', {
      method: 'POST',
      body: JSON.stringify({ cron: '* * * * *', type: 'email.send', payload: { to: 'nope' } }),
    })
    expect(badPayload.status).toBe(400)
    expect(badPayload.body.error).toMatchObject({ param: 'payload.to' })
    expect((await client.call('/v1/schedules')).body.data).toEqual([])
  })

  it('fires jobs that run, lists next run times, is private to its workspace, and stops on delete', async () => {
    const created = await client.call('/v1/schedules', {
      method: 'POST',
      body: JSON.stringify({
        cron: '* * * * *',
        type: 'system.echo',
        payload: { message: 'tick' },
        priority: 'high',
      }),
    })
    expect(created.status).toBe(201)
    const schedule = created.body
    expect(schedule).toMatchObject({ object: 'schedule', cron: '* * * * *', type: 'system.echo' })
    expect(schedule.next_runs).toHaveLength(5)
    // QStash's clock runs 100x fast here: the next firing is under a real second away.
    const next = new Date(schedule.next_run_at).getTime()
    expect(next - Date.now()).toBeLessThan(2_000)

    const listed = await client.call('/v1/schedules')
    expect(listed.body.data.map((x: Json) => x.id)).toEqual([schedule.id])

    // Another workspace sees nothing and cannot delete it.
    const other = jobsClient(s.api.url, (await s.newWorkspace()).apiKey)
    expect((await other.call('/v1/schedules')).body.data).toEqual([])
    expect((await other.call(`/v1/schedules/${schedule.id}`)).status).toBe(404)
    const theirDelete = await other.call(`/v1/schedules/${schedule.id}`, { method: 'DELETE' })
    expect(theirDelete.status).toBe(404)
    expect(theirDelete.body.error.code).toBe('schedule_not_found')

    // At least two firings, each a job of its own that ran to success with the payload.
    const deadline = Date.now() + 20_000
    let fired: Json[] = []
    while (Date.now() < deadline) {
      fired = (await jobsOf(client, schedule.id)).filter((j) => j.status === 'succeeded')
      if (fired.length >= 2) break
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(fired.length).toBeGreaterThanOrEqual(2)
    for (const job of fired) {
      expect(job).toMatchObject({ priority: 'high', result: { message: 'tick' }, attempts: 1 })
    }
    expect(new Set(fired.map((j) => j.id)).size).toBe(fired.length)
    const last = (await client.call(`/v1/schedules/${schedule.id}`)).body
    expect(last.last_run_at).not.toBeNull()

    const deleted = await client.call(`/v1/schedules/${schedule.id}`, { method: 'DELETE' })
    expect(deleted.status).toBe(200)
    expect((await client.call(`/v1/schedules/${schedule.id}`)).status).toBe(404)
    // A firing already in flight may still land: wait until the count holds for 1.5 s (more than
    // two cron minutes), then nothing more may come.
    let settled = (await jobsOf(client, schedule.id)).length
    let stableSince = Date.now()
    const settleBy = Date.now() + 10_000
    while (Date.now() - stableSince < 1_500) {
      expect(Date.now(), 'the deleted schedule kept firing').toBeLessThan(settleBy)
      await new Promise((r) => setTimeout(r, 100))
      const now = (await jobsOf(client, schedule.id)).length
      if (now !== settled) {
        settled = now
        stableSince = Date.now()
      }
    }
    await new Promise((r) => setTimeout(r, 2_000))
    expect((await jobsOf(client, schedule.id)).length).toBe(settled)
  })
})
