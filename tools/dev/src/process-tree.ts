import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'

export interface ProcessRow {
  pid: number
  ppid: number
  comm: string
}

/** Linux: /proc, which every Linux has (slim images often lack `ps`). */
export function fromProc(): ProcessRow[] {
  const rows: ProcessRow[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const close = stat.lastIndexOf(')')
      const comm = stat.slice(stat.indexOf('(') + 1, close)
      const ppid = Number(stat.slice(close + 2).split(' ')[1])
      rows.push({ pid: Number(entry), ppid, comm })
    } catch {
      // The process ended while we read.
    }
  }
  return rows
}

/** Elsewhere (macOS): `ps`. */
export function fromPs(): ProcessRow[] {
  return execFileSync('ps', ['-A', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map(([pid, ppid, ...comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm: comm.join(' ') }))
}

/**
 * Every process below `root`, by pid, with its command name. wrangler's workerd and esbuild
 * children are found this way even if they leave the process group they were started in. Best
 * effort: when the process table cannot be read, the answer is empty, never an error, so
 * stopping a stack never fails on it.
 */
export function descendantsOf(root: number): Map<number, string> {
  let rows: ProcessRow[]
  try {
    rows = existsSync('/proc/self/stat') ? fromProc() : fromPs()
  } catch {
    return new Map()
  }
  const found = new Map<number, string>()
  const queue = [root]
  for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
    for (const row of rows) {
      if (row.ppid === parent && !found.has(row.pid)) {
        found.set(row.pid, row.comm)
        queue.push(row.pid)
      }
    }
  }
  return found
}

/** True while `pid` exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Resolves with the pids still alive when they are all gone or `timeoutMs` has passed. */
export async function waitUntilGone(pids: Iterable<number>, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs
  let alive = [...pids].filter(isAlive)
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25))
    alive = alive.filter(isAlive)
  }
  return alive
}
