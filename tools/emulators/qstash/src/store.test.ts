import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { MessageRecord, WorkflowRunRecord } from './model'
import { Store } from './store'

const dirs: string[] = []
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'qstash-store-'))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const message = (id: string, seq: number): MessageRecord => ({
  messageId: id,
  seq,
  url: 'http://127.0.0.1:1/x',
  method: 'POST',
  header: [['Content-Type', 'text/plain']],
  body: Buffer.from(id).toString('base64'),
  createdAt: 1,
  notBefore: 1,
  retried: 0,
  maxRetries: 3,
  callerIp: '127.0.0.1',
})

describe('Store', () => {
  it('group-commits changes to the log and replays them after a crash', async () => {
    const d = dir()
    const a = new Store(d)
    a.putMessage(message('m1', 1))
    a.putMessage(message('m2', 2))
    a.putQueue({ name: 'q', parallelism: 2, paused: false, createdAt: 1, updatedAt: 1 })
    const m1 = a.messages.get('m1') as MessageRecord
    a.putMessage({ ...m1, retried: 2 })
    a.deleteMessage('m2')
    await a.commit()
    // one append for all five changes
    expect(readFileSync(join(d, 'wal.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5)
    // a torn last line, as from a kill mid-write, is ignored
    appendFileSync(join(d, 'wal.jsonl'), '{"t":"msg","v":{"messageId":"m3"')
    const b = new Store(d)
    expect([...b.messages.keys()]).toEqual(['m1'])
    expect(b.messages.get('m1')?.retried).toBe(2)
    expect(b.queues.get('q')?.parallelism).toBe(2)
  })

  it('snapshots on close and skips log lines the snapshot already covers', async () => {
    const d = dir()
    const a = new Store(d)
    a.putMessage(message('m1', 1))
    a.putDlq({ ...message('m2', 2), dlqId: '5-1', failedAt: 5 })
    await a.close()
    expect(readFileSync(join(d, 'wal.jsonl'), 'utf8')).toBe('')
    const snapshot = JSON.parse(readFileSync(join(d, 'state.json'), 'utf8'))
    expect(snapshot.seq).toBe(2)
    // a stale line (seq 1) left behind by a crash between rename and truncate must not resurrect
    appendFileSync(
      join(d, 'wal.jsonl'),
      `${JSON.stringify({ t: 'msg', v: message('m9', 9), s: 1 })}\n`,
    )
    const b = new Store(d)
    expect([...b.messages.keys()]).toEqual(['m1'])
    expect([...b.dlq.keys()]).toEqual(['5-1'])
    b.deleteMessage('m1')
    await b.close()
    expect(new Store(d).messages.size).toBe(0)
  })

  it('keeps nothing on disk in memory mode', async () => {
    const s = new Store(undefined)
    s.putMessage(message('m1', 1))
    await s.commit()
    expect(s.persistent).toBe(false)
  })

  it('replays workflow runs and their appended steps from the log, then from a snapshot', async () => {
    const d = dir()
    const a = new Store(d)
    const run: WorkflowRunRecord = {
      workflowRunId: 'wfr_1',
      workflowUrl: 'http://127.0.0.1:1/wf',
      state: 'RUN_STARTED',
      createdAt: 1,
      config: { retries: 3, forward: [] },
      steps: [{ messageId: 'm0', callType: 'step', body: 'e30=', createdAt: 1 }],
    }
    a.putWorkflowRun(run)
    a.appendWorkflowStep(run, { messageId: 'm1', callType: 'step', body: 'MQ==', createdAt: 2 })
    a.appendWorkflowStep(run, { messageId: 'm2', callType: 'step', body: 'Mg==', createdAt: 3 })
    a.putWorkflowRun({ ...run, state: 'RUN_SUCCESS', completedAt: 4, response: '"ok"' })
    a.putWorkflowRun({ ...run, workflowRunId: 'wfr_2' })
    a.deleteWorkflowRun('wfr_2')
    await a.commit()
    // a line replayed twice (the log is appended, not rewritten) adds its step once
    const lines = readFileSync(join(d, 'wal.jsonl'), 'utf8').trim().split('\n')
    appendFileSync(join(d, 'wal.jsonl'), `${lines[1]}\n`)

    const b = new Store(d) // no close: what a kill leaves
    const loaded = b.workflowRuns.get('wfr_1')
    expect(loaded?.state).toBe('RUN_SUCCESS')
    expect(loaded?.steps.map((s) => s.messageId)).toEqual(['m0', 'm1', 'm2'])
    expect(b.workflowRuns.has('wfr_2')).toBe(false)
    await b.close()
    const c = new Store(d)
    expect(c.workflowRuns.get('wfr_1')?.steps).toHaveLength(3)
    expect(c.workflowRuns.get('wfr_1')?.response).toBe('"ok"')
    await c.close()
  })
})
