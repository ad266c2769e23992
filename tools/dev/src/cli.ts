import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type ManagedChild, spawnPrefixed, stopGroup } from './child-process-group.js'
import { assertPortFree } from './ports.js'
import { loadStack, repoRoot } from './stack.js'
import { waitForHttp } from './wait-for-http.js'

/**
 * `pnpm dev`: starts the emulators, applies migrations, then the edge API, jobs worker, ml-node and
 * web app, each with prefixed logs. Ctrl-C (or SIGTERM) stops every child's whole process group.
 * It installs nothing: run `pnpm install` first (the README's command does both).
 */
async function main(): Promise<void> {
  const stack = loadStack(process.env)
  mkdirSync(stack.dataDir, { recursive: true })

  // Both Workers get the emulators' settings as --var, which outrank .dev.vars: say so, rather
  // than let someone believe their real Neon/Upstash/QStash values are in use.
  for (const file of ['.dev.vars', 'workers/jobs/.dev.vars']) {
    if (existsSync(join(repoRoot, file))) {
      console.log(
        `[dev] ${file} exists; pnpm dev runs on the emulators and overrides its service settings (README: "Pointing at the real services")`,
      )
    }
  }

  const missing = stack.services.filter((service) => !existsSync(service.packageDir))
  for (const service of missing)
    console.log(`[dev] ${service.name}: ${service.packageDir} not found, skipped`)
  const services = stack.services.filter((service) => existsSync(service.packageDir))

  for (const service of services) {
    if (service.kind === 'service') {
      await assertPortFree(service.port, stack.host, service.name, service.portEnv)
    }
  }

  const running: ManagedChild[] = []
  let stopping = false
  const stopAll = async (exitCode: number) => {
    if (stopping) return
    stopping = true
    console.log('[dev] stopping…')
    // Every child is stopped even if stopping one of them fails.
    const results = await Promise.allSettled(running.reverse().map((child) => stopGroup(child)))
    for (const result of results) {
      if (result.status === 'rejected') console.error(`[dev] while stopping: ${result.reason}`)
    }
    process.exit(exitCode)
  }
  process.on('SIGINT', () => void stopAll(0))
  process.on('SIGTERM', () => void stopAll(0))
  process.on('SIGHUP', () => void stopAll(0))

  for (const phase of stack.phases) {
    const phaseServices = services.filter((service) => service.phase === phase)
    await Promise.all(
      phaseServices.map(async (service) => {
        const managed = spawnPrefixed(service.name, service.command, service.args, {
          cwd: service.cwd,
          env: { ...process.env, ...service.env },
        })
        // Tasks (migrations) are stopped with the rest if Ctrl-C comes while they run.
        running.push(managed)
        if (service.kind === 'task') {
          const code = await managed.exited
          running.splice(running.indexOf(managed), 1)
          if (code !== 0) throw new Error(`${service.name} failed with exit code ${code}`)
          return
        }
        void managed.exited.then((code) => {
          if (!stopping) {
            console.log(`[dev] ${service.name} exited with code ${code}; stopping the stack`)
            void stopAll(1)
          }
        })
        await waitForHttp(service.readyUrl, service.readyTimeoutMs, managed.isAlive)
        console.log(`[dev] ${service.name} ready at ${service.publicUrl}`)
      }),
    ).catch(async (error: unknown) => {
      console.error(`[dev] ${error instanceof Error ? error.message : String(error)}`)
      await stopAll(1)
    })
    if (stopping) return
  }
  console.log(
    `[dev] stack is up: API ${stack.apiUrl}  web ${stack.webUrl}  (Ctrl-C stops everything)`,
  )
}

main().catch((error: unknown) => {
  console.error(`[dev] ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
