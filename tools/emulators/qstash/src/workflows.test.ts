/**
 * Upstash Workflow runs through the official `@upstash/workflow` SDK: `serve` endpoints on a
 * real HTTP server, runs started with `Client.trigger`, the emulator delivering every step.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client as QStashClient, Receiver } from '@upstash/qstash'
import {
  Client,
  serve,
  WorkflowNonRetryableError,
  type WorkflowRunLog,
  type WorkflowServeOptions,
} from '@upstash/workflow'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type QStashEmulator, startQStashEmulator } from './index'
import { type FetchServer, startFetchServer, waitFor } from './test-support'

const dirs: string[] = []
const cleanups: (() => Promise<void>)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

async function emulator(options: Parameters<typeof startQStashEmulator>[0] = {}) {
  const emu = await startQStashEmulator({ port: 0, timeScale: 0.01, ...options })
  cleanups.push(() => emu.close())
  return emu
}

/** `serve` options that talk to `emu`: its QStash client, and its signing keys to verify. */
function options(emu: QStashEmulator) {
  return {
    qstashClient: new QStashClient({ baseUrl: emu.url, token: emu.token, retry: false }),
    receiver: new Receiver({
      currentSigningKey: emu.currentSigningKey,
      nextSigningKey: emu.nextSigningKey,
    }),
    env: {},
  } satisfies WorkflowServeOptions
}

async function server(routes: Parameters<typeof startFetchServer>[0]): Promise<FetchServer> {
  const s = await startFetchServer(routes)
  cleanups.push(() => s.close())
  return s
}

function client(emu: QStashEmulator): Client {
  return new Client({ baseUrl: emu.url, token: emu.token, retry: false })
}

async function runLog(c: Client, workflowRunId: string): Promise<WorkflowRunLog | undefined> {
  const { runs } = await c.logs({ workflowRunId })
  return runs[0]
}

/** Waits until the run is no longer RUN_STARTED and returns its log. */
async function finished(c: Client, workflowRunId: string, timeoutMs = 10_000) {
  return waitFor(
    async () => {
      const run = await runLog(c, workflowRunId)
      return run && run.workflowState !== 'RUN_STARTED' ? run : undefined
    },
    timeoutMs,
    `run ${workflowRunId} to finish`,
  )
}

/** Every step log of a run, whichever group it is in. */
function stepLogs(run: WorkflowRunLog | undefined) {
  return (run?.steps ?? []).flatMap(
    (g) => g.steps as { stepName?: string; stepType?: string; sleepFor?: number }[],
  )
}

const counter = () => {
  const counts = new Map<string, number>()
  return {
    hit(name: string) {
      counts.set(name, (counts.get(name) ?? 0) + 1)
    },
    get: (name: string) => counts.get(name) ?? 0,
  }
}

describe('workflows', () => {
  it('runs a multi-step workflow to the end, each step exactly once', async () => {
    const emu = await emulator()
    const runs = counter()
    let payloadSeen: unknown
    const { handler } = serve<{ text: string }>(async (context) => {
      payloadSeen = context.requestPayload
      const upper = await context.run('upper', () => {
        runs.hit('upper')
        return context.requestPayload.text.toUpperCase()
      })
      const words = await context.run('split', () => {
        runs.hit('split')
        return upper.split(' ')
      })
      const joined = await context.run('join', async () => {
        runs.hit('join')
        return words.join('-')
      })
      return { joined, count: words.length }
    }, options(emu))
    const app = await server({ '/wf': handler })
    const wf = client(emu)

    const { workflowRunId } = await wf.trigger({
      url: `${app.url}/wf`,
      body: { text: 'hello workflow world' },
    })
    expect(workflowRunId).toMatch(/^wfr_/)
    const run = await finished(wf, workflowRunId)

    expect(run.workflowState).toBe('RUN_SUCCESS')
    expect(JSON.parse(run.workflowRunResponse as string)).toEqual({
      joined: 'HELLO-WORKFLOW-WORLD',
      count: 3,
    })
    expect(payloadSeen).toEqual({ text: 'hello workflow world' })
    expect(['upper', 'split', 'join'].map(runs.get)).toEqual([1, 1, 1])
    const names = stepLogs(run).map((s) => s.stepName)
    expect(names).toEqual(['init', 'upper', 'split', 'join'])
    // an ended run's history is gone for the SDK's lazy fetch (it treats 404 as "run ended")
    const res = await fetch(`${emu.url}/v2/workflows/runs/${workflowRunId}`, {
      headers: { authorization: `Bearer ${emu.token}` },
    })
    expect(res.status).toBe(404)
  })

  it('retries a failing step on its own; earlier steps are not run again', async () => {
    const emu = await emulator()
    const runs = counter()
    const { handler } = serve(async (context) => {
      const a = await context.run('fetch', () => {
        runs.hit('fetch')
        return 41
      })
      const b = await context.run('flaky', () => {
        runs.hit('flaky')
        if (runs.get('flaky') < 3) throw new Error(`transient failure ${runs.get('flaky')}`)
        return a + 1
      })
      await context.run('after', () => {
        runs.hit('after')
      })
      return b
    }, options(emu))
    const app = await server({ '/flaky': handler })
    const wf = client(emu)

    const { workflowRunId } = await wf.trigger({ url: `${app.url}/flaky`, retries: 3 })
    const run = await finished(wf, workflowRunId)

    expect(run.workflowState).toBe('RUN_SUCCESS')
    expect(run.workflowRunResponse).toBe('42')
    expect(runs.get('fetch')).toBe(1)
    expect(runs.get('flaky')).toBe(3)
    expect(runs.get('after')).toBe(1)
  })

  it('fails the run after the retries and calls the failure function with the error', async () => {
    const emu = await emulator()
    const runs = counter()
    let failure: { payload: unknown; status: number; response: string; runId: string } | undefined
    const { handler } = serve<{ doc: string }>(
      async (context) => {
        await context.run('ok', () => runs.hit('ok'))
        await context.run('broken', () => {
          runs.hit('broken')
          throw new Error('ml-node unreachable')
        })
        await context.run('never', () => runs.hit('never'))
      },
      {
        ...options(emu),
        failureFunction: async ({ context, failStatus, failResponse }) => {
          failure = {
            payload: context.requestPayload,
            status: failStatus,
            response: failResponse,
            runId: context.workflowRunId,
          }
        },
      },
    )
    const app = await server({ '/broken': handler })
    const wf = client(emu)

    const { workflowRunId } = await wf.trigger({
      url: `${app.url}/broken`,
      body: { doc: 'd1' },
      retries: 1,
    })
    const run = await finished(wf, workflowRunId)
    expect(run.workflowState).toBe('RUN_FAILED')
    expect(run.dlqId).toBeTruthy()
    const called = await waitFor(() => failure, 5000, 'the failure function')
    expect(called).toEqual({
      payload: { doc: 'd1' },
      status: 500,
      response: 'ml-node unreachable',
      runId: workflowRunId,
    })
    expect([runs.get('ok'), runs.get('broken'), runs.get('never')]).toEqual([1, 2, 0])
  })

  it('a non-retryable error fails the run at once', async () => {
    const emu = await emulator()
    let attempts = 0
    let failResponse = ''
    const { handler } = serve(
      async (context) => {
        await context.run('validate', () => {
          attempts++
          throw new WorkflowNonRetryableError('bad input')
        })
      },
      {
        ...options(emu),
        failureFunction: async (failure) => {
          failResponse = failure.failResponse
        },
      },
    )
    const app = await server({ '/nonretry': handler })
    const wf = client(emu)
    const { workflowRunId } = await wf.trigger({ url: `${app.url}/nonretry`, retries: 5 })
    const run = await finished(wf, workflowRunId)
    expect(run.workflowState).toBe('RUN_FAILED')
    await waitFor(() => failResponse, 5000, 'the failure function')
    expect(failResponse).toBe('bad input')
    expect(attempts).toBe(1)
  })

  it('sleep and sleepUntil wait the scaled time', async () => {
    const emu = await emulator({ timeScale: 0.01 })
    const times: Record<string, number> = {}
    const { handler } = serve(async (context) => {
      await context.run('before', () => {
        times.before = Date.now()
      })
      await context.sleep('nap', 20) // 20 s × 0.01 = 200 ms
      await context.run('after-sleep', () => {
        times.afterSleep = Date.now()
      })
      // 30 s from now in workflow time (the emulator scales the wait to 300 ms)
      await context.sleepUntil('alarm', Math.floor(Date.now() / 1000) + 30)
      await context.run('after-until', () => {
        times.afterUntil = Date.now()
      })
    }, options(emu))
    const app = await server({ '/sleepy': handler })
    const wf = client(emu)
    const { workflowRunId } = await wf.trigger({ url: `${app.url}/sleepy` })
    const run = await finished(wf, workflowRunId)

    expect(run.workflowState).toBe('RUN_SUCCESS')
    expect((times.afterSleep as number) - (times.before as number)).toBeGreaterThanOrEqual(190)
    expect((times.afterUntil as number) - (times.afterSleep as number)).toBeGreaterThanOrEqual(250)
    const nap = stepLogs(run).find((s) => s.stepName === 'nap')
    expect(nap).toMatchObject({ stepType: 'SleepFor', sleepFor: 20 })
  })

  it('runs parallel steps, each exactly once', async () => {
    const emu = await emulator()
    const runs = counter()
    const { handler } = serve(async (context) => {
      const [a, b, c] = await Promise.all([
        context.run('a', () => {
          runs.hit('a')
          return 1
        }),
        context.run('b', () => {
          runs.hit('b')
          return 2
        }),
        context.run('c', () => {
          runs.hit('c')
          return 3
        }),
      ])
      return await context.run('sum', () => {
        runs.hit('sum')
        return a + b + c
      })
    }, options(emu))
    const app = await server({ '/parallel': handler })
    const wf = client(emu)
    const { workflowRunId } = await wf.trigger({ url: `${app.url}/parallel` })
    const run = await finished(wf, workflowRunId)
    expect(run.workflowState).toBe('RUN_SUCCESS')
    expect(run.workflowRunResponse).toBe('6')
    expect(['a', 'b', 'c', 'sum'].map(runs.get)).toEqual([1, 1, 1, 1])
    expect(run.steps.some((g) => g.type === 'parallel' && g.steps.length === 3)).toBe(true)
  })

  it('a second trigger with the same run id starts nothing', async () => {
    const emu = await emulator()
    const runs = counter()
    const { handler } = serve(async (context) => {
      await context.run('once', () => runs.hit('once'))
    }, options(emu))
    const app = await server({ '/dedup': handler })
    const wf = client(emu)
    const first = await wf.trigger({ url: `${app.url}/dedup`, workflowRunId: 'job-1' })
    const second = await wf.trigger({ url: `${app.url}/dedup`, workflowRunId: 'job-1' })
    expect(first.workflowRunId).toBe('wfr_job-1')
    expect(second.workflowRunId).toBe('wfr_job-1')
    const run = await finished(wf, 'wfr_job-1')
    expect(run.workflowState).toBe('RUN_SUCCESS')
    expect(runs.get('once')).toBe(1)
  })

  it('cancel stops a run: the step after its sleep never runs', async () => {
    const emu = await emulator({ timeScale: 0.001 })
    const runs = counter()
    const { handler } = serve(async (context) => {
      await context.run('first', () => runs.hit('first'))
      await context.sleep('long', 3000) // 3 s at this scale: room for the cancel under load
      await context.run('second', () => runs.hit('second'))
    }, options(emu))
    const app = await server({ '/cancel': handler })
    const wf = client(emu)
    const { workflowRunId } = await wf.trigger({ url: `${app.url}/cancel` })
    await waitFor(
      async () => {
        const run = await runLog(wf, workflowRunId)
        return stepLogs(run).some((s) => s.stepName === 'long')
      },
      5000,
      'the sleep step',
    )

    expect(await wf.cancel(workflowRunId)).toEqual({ cancelled: 1 })
    expect(await wf.cancel(workflowRunId)).toEqual({ cancelled: 0 })
    await new Promise((r) => setTimeout(r, 3500))
    const run = await runLog(wf, workflowRunId)
    expect(run?.workflowState).toBe('RUN_CANCELED')
    expect(runs.get('first')).toBe(1)
    expect(runs.get('second')).toBe(0)
  })

  it('context.cancel() ends the run as cancelled', async () => {
    const emu = await emulator()
    const runs = counter()
    const { handler } = serve(async (context) => {
      await context.run('first', () => runs.hit('first'))
      await context.cancel()
      await context.run('second', () => runs.hit('second'))
    }, options(emu))
    const app = await server({ '/self-cancel': handler })
    const wf = client(emu)
    const { workflowRunId } = await wf.trigger({ url: `${app.url}/self-cancel` })
    const run = await finished(wf, workflowRunId)
    expect(run.workflowState).toBe('RUN_CANCELED')
    expect([runs.get('first'), runs.get('second')]).toEqual([1, 0])
  })

  it('a restart of the emulator mid-run resumes the run where it was', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'qstash-wf-'))
    dirs.push(dataDir)
    const first = await startQStashEmulator({ port: 0, dataDir, timeScale: 0.01 })
    cleanups.push(() => first.close())
    const port = first.port
    const runs = counter()
    const { handler } = serve<{ n: number }>(async (context) => {
      const doubled = await context.run('double', () => {
        runs.hit('double')
        return context.requestPayload.n * 2
      })
      await context.sleep('wait', 300) // 3 s at this scale: the restart happens meanwhile
      return await context.run('add', () => {
        runs.hit('add')
        return doubled + 1
      })
    }, options(first))
    const app = await server({ '/durable': handler })
    const { workflowRunId } = await client(first).trigger({
      url: `${app.url}/durable`,
      body: { n: 20 },
    })
    await waitFor(() => runs.get('double') === 1, 5000, 'the first step')
    await waitFor(
      async () => {
        const run = await runLog(client(first), workflowRunId)
        return stepLogs(run).some((s) => s.stepName === 'wait')
      },
      5000,
      'the sleep step',
    )
    await first.close()
    expect(runs.get('add')).toBe(0)

    const second = await emulator({ port, dataDir, timeScale: 0.01 })
    const run = await finished(client(second), workflowRunId)
    expect(run.workflowState).toBe('RUN_SUCCESS')
    expect(run.workflowRunResponse).toBe('41')
    expect([runs.get('double'), runs.get('add')]).toEqual([1, 1])
  })

  it('refuses a step for an unknown run and validates workflow headers', async () => {
    const emu = await emulator()
    const qstash = new QStashClient({ baseUrl: emu.url, token: emu.token, retry: false })
    const step = (runId: string) =>
      qstash.publish({
        url: 'http://127.0.0.1:9/wf',
        body: '{}',
        headers: { 'Upstash-Workflow-RunId': runId, 'Upstash-Workflow-Init': 'false' },
      })
    await expect(step('wfr_missing')).rejects.toMatchObject({ status: 404 })
    await expect(step('bad id/with slash')).rejects.toMatchObject({ status: 400 })
    const res = await fetch(`${emu.url}/v2/workflows/events?state=NOPE`, {
      headers: { authorization: `Bearer ${emu.token}` },
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: 'invalid state: "NOPE"' })
  })
})
