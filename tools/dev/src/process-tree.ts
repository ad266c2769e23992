import { execFileSync } from 'node:child_process'

/**
 * Every process below `root`, by pid, with its command name, read from `ps` (Linux and macOS
 * alike). wrangler's workerd and esbuild children are found this way even if they leave the
 * process group they were started in.
 */
export function descendantsOf(root: number): Map<number, string> {
  const rows = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map(([pid, ppid, ...comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm: comm.join(' ') }))
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
