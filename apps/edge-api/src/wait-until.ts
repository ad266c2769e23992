import type { Context } from 'hono'

/**
 * Runs work after the response (`ctx.waitUntil`). Failures are logged by name only, never
 * thrown. Without an execution context (e.g. `app.request` in Node tests) the promise runs
 * detached.
 */
export function waitUntil(c: Context, label: string, promise: Promise<unknown>): void {
  const guarded = promise.catch((error: unknown) => {
    const name = error instanceof Error ? error.name : 'error'
    const message = error instanceof Error ? error.message.slice(0, 200) : ''
    console.warn(`${label} failed: ${name} ${message}`)
  })
  try {
    c.executionCtx.waitUntil(guarded)
  } catch {
    // no ExecutionContext
  }
}
