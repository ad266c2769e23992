// CPU seconds spent by the processes of a jobs stack, read from /proc (Linux). The bench process
// hosts the Neon, Redis and QStash emulators and the callers; each Worker runs as a Node process
// (wrangler) with workerd children; the real PostgreSQL and Redis servers, when used, are outside
// this process tree and counted by name. CPU per job holds up when other work shares the machine,
// which throughput and latency do not.
import { readdirSync, readFileSync } from 'node:fs'

const TICKS_PER_SECOND = 100

interface Proc {
  ppid: number
  cpu: number
  name: string
  cmd: string[]
}

function readProcs(): Map<number, Proc> {
  const procs = new Map<number, Proc>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      const first = cmd[0] ?? '?'
      // A path's last part, or a title's first word ("postgres: 15/main: checkpointer").
      const name = cmd.some((a) => a.endsWith('workerd'))
        ? 'workerd'
        : first.startsWith('/')
          ? (first.split('/').pop() ?? '?')
          : (first.split(/[\s:]/)[0] ?? '?')
      procs.set(Number(entry), {
        ppid: Number(fields[1]),
        cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
        name,
        cmd,
      })
    } catch {
      // the process ended while being read
    }
  }
  return procs
}

/**
 * CPU seconds so far by group: `bench` (this process), `<tree>:<name>` for descendants, where
 * `<tree>` is the label of the port (in `trees`) on its top process's command line, and
 * `postgres` / `redis-server` for those servers anywhere on the machine.
 */
export function cpuByGroup(trees: Map<string, string>): Map<string, number> {
  const procs = readProcs()
  const out = new Map<string, number>()
  const add = (group: string, cpu: number) => out.set(group, (out.get(group) ?? 0) + cpu)
  for (const [pid, p] of procs) {
    if (pid === process.pid) {
      add('bench', p.cpu)
      continue
    }
    let top: number | undefined
    for (let q: number | undefined = pid; q && q > 1; q = procs.get(q)?.ppid) {
      if (procs.get(q)?.ppid === process.pid) top = q
    }
    if (top !== undefined) {
      const cmd = procs.get(top)?.cmd ?? []
      const tree = [...trees].find(([port]) => cmd.includes(port))?.[1] ?? 'other'
      add(`${tree}:${p.name}`, p.cpu)
    } else if (p.name === 'postgres' || p.name === 'redis-server') {
      add(p.name, p.cpu)
    }
  }
  return out
}

/** after − before, per group, dropping groups that spent (almost) nothing. */
export function cpuDelta(before: Map<string, number>, after: Map<string, number>) {
  return new Map(
    [...after]
      .map(([group, cpu]) => [group, cpu - (before.get(group) ?? 0)] as const)
      .filter(([, cpu]) => cpu > 0.05)
      .sort((a, b) => b[1] - a[1]),
  )
}

export const totalCpu = (delta: Map<string, number>) =>
  [...delta.values()].reduce((a, b) => a + b, 0)
