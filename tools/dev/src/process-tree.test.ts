import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { descendantsOf, fromProc, fromPs, isAlive, waitUntilGone } from './process-tree'

describe('process tree', () => {
  it('finds children and grandchildren, and sees them go', async () => {
    // sh → (sh → sleep) and sleep: a grandchild in its own session, as a daemonising child would be.
    const root = spawn('sh', ['-c', 'sleep 30 & setsid sh -c "sleep 31" & wait'], {
      stdio: 'ignore',
    })
    const pid = root.pid as number
    let tree = descendantsOf(pid)
    for (let i = 0; i < 200 && [...tree.values()].filter((c) => c === 'sleep').length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25))
      tree = descendantsOf(pid)
    }
    expect([...tree.values()].filter((comm) => comm === 'sleep')).toHaveLength(2)
    expect(descendantsOf(pid).has(pid)).toBe(false)

    for (const child of tree.keys()) process.kill(child, 'SIGKILL')
    root.kill('SIGKILL')
    expect(await waitUntilGone(tree.keys(), 5_000)).toEqual([])
    expect(isAlive(process.pid)).toBe(true)
  })

  it('reports what is still alive when the time is up', async () => {
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' })
    const pid = sleeper.pid as number
    expect(await waitUntilGone([pid], 100)).toEqual([pid])
    sleeper.kill('SIGKILL')
    expect(await waitUntilGone([pid], 5_000)).toEqual([])
  })
})

describe('process table', () => {
  it('reads the same parent and name from /proc and from ps', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' })
    try {
      const pid = child.pid as number
      const proc = fromProc().find((row) => row.pid === pid)
      const ps = fromPs().find((row) => row.pid === pid)
      expect(proc).toEqual({ pid, ppid: process.pid, comm: 'sleep' })
      expect(ps).toMatchObject({ pid, ppid: process.pid })
      expect(ps?.comm).toMatch(/sleep$/)
    } finally {
      child.kill('SIGKILL')
    }
  })
})
