/**
 * In-memory state with an optional write-ahead log.
 *
 * Every change is applied to memory at once and appended, as one JSON line with a sequence
 * number, to `wal.jsonl`. Lines are group-committed: changes made while a write is running go
 * out together in the next single append, and `commit()` resolves once everything logged so far
 * is on disk. When the log grows past a bound (and on close) the whole state is written to
 * `state.json.tmp` and renamed over `state.json`, then the log is truncated. Loading replays the
 * log lines newer than the snapshot's sequence number, so a torn or repeated tail is harmless.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { appendFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type {
  DedupEntry,
  DlqRecord,
  MessageRecord,
  QueueRecord,
  ScheduleRecord,
  WorkflowRunRecord,
  WorkflowStepEntry,
} from './model'

type Op =
  | { t: 'msg'; v: MessageRecord }
  | { t: 'msg-'; id: string }
  | { t: 'dlq'; v: DlqRecord }
  | { t: 'dlq-'; id: string }
  | { t: 'q'; v: QueueRecord }
  | { t: 'q-'; id: string }
  | { t: 'sch'; v: ScheduleRecord }
  | { t: 'sch-'; id: string }
  | { t: 'dd'; k: string; v: DedupEntry }
  | { t: 'wf'; v: WorkflowRunRecord }
  | { t: 'wfs'; id: string; v: WorkflowStepEntry }
  | { t: 'wf-'; id: string }

interface Snapshot {
  version: 1
  seq: number
  messages: MessageRecord[]
  dlq: DlqRecord[]
  queues: QueueRecord[]
  schedules: ScheduleRecord[]
  dedup: [string, DedupEntry][]
  /** absent in snapshots written before workflows were emulated */
  workflowRuns?: WorkflowRunRecord[]
}

interface Batch {
  lines: string[]
  promise: Promise<void>
  resolve: () => void
  reject: (error: unknown) => void
}

const COMPACT_AFTER_LINES = 50_000

export class Store {
  readonly messages = new Map<string, MessageRecord>()
  readonly dlq = new Map<string, DlqRecord>()
  readonly queues = new Map<string, QueueRecord>()
  readonly schedules = new Map<string, ScheduleRecord>()
  readonly dedup = new Map<string, DedupEntry>()
  readonly workflowRuns = new Map<string, WorkflowRunRecord>()

  private readonly walPath: string | undefined
  private readonly snapshotPath: string | undefined
  private seq = 0
  private linesSinceSnapshot = 0
  private batch: Batch | null = null
  private chain: Promise<void> = Promise.resolve()
  private closed = false

  constructor(dataDir: string | undefined) {
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true })
      this.walPath = join(dataDir, 'wal.jsonl')
      this.snapshotPath = join(dataDir, 'state.json')
      this.load()
    }
  }

  get persistent(): boolean {
    return this.walPath !== undefined
  }

  putMessage(m: MessageRecord): void {
    this.messages.set(m.messageId, m)
    this.log({ t: 'msg', v: m })
  }

  deleteMessage(id: string): boolean {
    const existed = this.messages.delete(id)
    if (existed) this.log({ t: 'msg-', id })
    return existed
  }

  putDlq(d: DlqRecord): void {
    this.dlq.set(d.dlqId, d)
    this.log({ t: 'dlq', v: d })
  }

  deleteDlq(id: string): boolean {
    const existed = this.dlq.delete(id)
    if (existed) this.log({ t: 'dlq-', id })
    return existed
  }

  putQueue(q: QueueRecord): void {
    this.queues.set(q.name, q)
    this.log({ t: 'q', v: q })
  }

  deleteQueue(name: string): boolean {
    const existed = this.queues.delete(name)
    if (existed) this.log({ t: 'q-', id: name })
    return existed
  }

  putSchedule(s: ScheduleRecord): void {
    this.schedules.set(s.scheduleId, s)
    this.log({ t: 'sch', v: s })
  }

  deleteSchedule(id: string): boolean {
    const existed = this.schedules.delete(id)
    if (existed) this.log({ t: 'sch-', id })
    return existed
  }

  putDedup(key: string, entry: DedupEntry): void {
    this.dedup.set(key, entry)
    this.log({ t: 'dd', k: key, v: entry })
  }

  /** Writes a whole run (on creation and when its state changes). */
  putWorkflowRun(run: WorkflowRunRecord): void {
    this.workflowRuns.set(run.workflowRunId, run)
    this.log({ t: 'wf', v: run })
  }

  /** Appends one entry to a run's history; only the entry is logged, not the whole run. */
  appendWorkflowStep(run: WorkflowRunRecord, entry: WorkflowStepEntry): void {
    run.steps.push(entry)
    this.log({ t: 'wfs', id: run.workflowRunId, v: entry })
  }

  deleteWorkflowRun(id: string): boolean {
    const existed = this.workflowRuns.delete(id)
    if (existed) this.log({ t: 'wf-', id })
    return existed
  }

  /** Drops expired deduplication ids (not logged: expired entries are ignored on load too). */
  pruneDedup(now: number): void {
    for (const [key, entry] of this.dedup) if (entry.expiresAt <= now) this.dedup.delete(key)
  }

  /** Resolves once every change made so far is written to the log (at once in memory mode). */
  commit(): Promise<void> {
    return this.batch ? this.batch.promise : this.chain
  }

  /** Writes a snapshot and stops logging. */
  async close(): Promise<void> {
    if (this.closed) return
    await this.commit()
    this.closed = true
    if (this.walPath) {
      this.chain = this.chain.then(() => this.snapshot())
      await this.chain
    }
  }

  /**
   * Lets go of the folder without writing: for a start that failed (port in use), where another
   * emulator may own the same folder and a snapshot would truncate the log under it.
   */
  abandon(): void {
    this.closed = true
  }

  private log(op: Op): void {
    if (!this.walPath || this.closed) return
    this.seq++
    const line = JSON.stringify({ ...op, s: this.seq })
    if (!this.batch) {
      let resolve!: () => void
      let reject!: (error: unknown) => void
      const promise = new Promise<void>((res, rej) => {
        resolve = res
        reject = rej
      })
      // callers that await commit() see a failed write; nobody else must crash on it
      promise.catch((error: unknown) => {
        console.error(
          `qstash emulator: writing ${this.walPath} failed: ${(error as Error).message}`,
        )
      })
      const batch: Batch = { lines: [], promise, resolve, reject }
      this.batch = batch
      // wait one macrotask so that concurrent changes join this append
      this.chain = this.chain
        .then(() => new Promise<void>((r) => setImmediate(r)))
        .then(() => this.write(batch))
    }
    this.batch.lines.push(line)
  }

  private async write(batch: Batch): Promise<void> {
    if (this.batch === batch) this.batch = null
    try {
      await appendFile(this.walPath as string, `${batch.lines.join('\n')}\n`)
      this.linesSinceSnapshot += batch.lines.length
      batch.resolve()
    } catch (error) {
      batch.reject(error)
      return
    }
    if (this.linesSinceSnapshot >= COMPACT_AFTER_LINES) await this.snapshot().catch(() => {})
  }

  private async snapshot(): Promise<void> {
    const walPath = this.walPath as string
    const snapshotPath = this.snapshotPath as string
    const state: Snapshot = {
      version: 1,
      seq: this.seq,
      messages: [...this.messages.values()],
      dlq: [...this.dlq.values()],
      queues: [...this.queues.values()],
      schedules: [...this.schedules.values()],
      dedup: [...this.dedup.entries()],
      workflowRuns: [...this.workflowRuns.values()],
    }
    const tmp = `${snapshotPath}.tmp`
    await writeFile(tmp, JSON.stringify(state))
    await rename(tmp, snapshotPath)
    // lines already in the log are covered by the snapshot's seq and skipped on load
    await writeFile(walPath, '')
    this.linesSinceSnapshot = 0
  }

  private load(): void {
    const snapshotPath = this.snapshotPath as string
    const walPath = this.walPath as string
    let snapshotSeq = 0
    if (existsSync(snapshotPath)) {
      const state = JSON.parse(readFileSync(snapshotPath, 'utf8')) as Snapshot
      snapshotSeq = state.seq
      for (const m of state.messages) this.messages.set(m.messageId, m)
      for (const d of state.dlq) this.dlq.set(d.dlqId, d)
      for (const q of state.queues) this.queues.set(q.name, q)
      for (const s of state.schedules) this.schedules.set(s.scheduleId, s)
      for (const [k, v] of state.dedup) this.dedup.set(k, v)
      for (const run of state.workflowRuns ?? []) this.workflowRuns.set(run.workflowRunId, run)
    }
    this.seq = snapshotSeq
    if (existsSync(walPath)) {
      const lines = readFileSync(walPath, 'utf8').split('\n')
      for (const line of lines) {
        if (line.trim() === '') continue
        let op: Op & { s: number }
        try {
          op = JSON.parse(line) as Op & { s: number }
        } catch {
          continue // a torn last line from a kill mid-write
        }
        if (op.s <= snapshotSeq) continue
        this.apply(op)
        this.seq = Math.max(this.seq, op.s)
        this.linesSinceSnapshot++
      }
    }
  }

  private apply(op: Op): void {
    switch (op.t) {
      case 'msg':
        this.messages.set(op.v.messageId, op.v)
        break
      case 'msg-':
        this.messages.delete(op.id)
        break
      case 'dlq':
        this.dlq.set(op.v.dlqId, op.v)
        break
      case 'dlq-':
        this.dlq.delete(op.id)
        break
      case 'q':
        this.queues.set(op.v.name, op.v)
        break
      case 'q-':
        this.queues.delete(op.id)
        break
      case 'sch':
        this.schedules.set(op.v.scheduleId, op.v)
        break
      case 'sch-':
        this.schedules.delete(op.id)
        break
      case 'dd':
        this.dedup.set(op.k, op.v)
        break
      case 'wf':
        this.workflowRuns.set(op.v.workflowRunId, op.v)
        break
      case 'wfs': {
        const run = this.workflowRuns.get(op.id)
        // a replayed line whose entry the run already has (same message) is skipped
        if (run && !run.steps.some((s) => s.messageId === op.v.messageId)) run.steps.push(op.v)
        break
      }
      case 'wf-':
        this.workflowRuns.delete(op.id)
        break
    }
  }
}
