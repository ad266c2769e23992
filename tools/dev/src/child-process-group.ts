import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { descendantsOf, waitUntilGone } from './process-tree.js'

const colours = [36, 35, 33, 32, 34, 31, 96, 95]
let nextColour = 0

export interface ManagedChild {
  name: string
  child: ChildProcess
  exited: Promise<number | null>
  isAlive(): boolean
}

/**
 * Spawns a command in its own process group and prefixes each output line with the service name.
 * Its own group lets us stop the whole tree (wrangler's workerd, tsx's node) with one signal.
 */
export function spawnPrefixed(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): ManagedChild {
  const colour = colours[nextColour++ % colours.length]
  const prefix = process.stdout.isTTY ? `\x1b[${colour}m[${name}]\x1b[0m ` : `[${name}] `
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue
    createInterface({ input: stream }).on('line', (line) => {
      process.stdout.write(`${prefix}${line}\n`)
    })
  }
  let alive = true
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      alive = false
      resolve(code)
    })
    child.once('error', (error) => {
      process.stdout.write(`${prefix}failed to start: ${error.message}\n`)
      alive = false
      resolve(1)
    })
  })
  return { name, child, exited, isAlive: () => alive }
}

/**
 * SIGTERM to the child's whole process group, SIGKILL after the grace period; resolves only when
 * every process that was below the child is gone, so no workerd outlives `pnpm dev`.
 */
export async function stopGroup(managed: ManagedChild, graceMs = 5_000): Promise<void> {
  const pid = managed.child.pid
  if (pid === undefined) return
  // Taken before the signal: once the parent exits, its children are re-parented and lost to view.
  const tree = managed.isAlive() ? descendantsOf(pid) : new Map<number, string>()
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal)
    } catch {
      // The group is already gone.
    }
  }
  signalGroup('SIGTERM')
  const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs)
  await managed.exited
  clearTimeout(timer)
  // Grandchildren (workerd, esbuild) may outlive their parent briefly, or sit in another group.
  let left = await waitUntilGone(tree.keys(), 1_000)
  if (left.length === 0) return
  signalGroup('SIGKILL')
  for (const child of left) {
    try {
      process.kill(child, 'SIGKILL')
    } catch {
      // Gone meanwhile.
    }
  }
  left = await waitUntilGone(left, 2_000)
  if (left.length > 0) {
    console.log(`[dev] ${managed.name}: processes ${left.join(', ')} did not stop`)
  }
}
