/**
 * The request's `waitUntil`, to keep work running after the response. Without an
 * ExecutionContext (e.g. `app.request()` in a unit test) the promise just runs on.
 */
export function waitUntilOf(c: {
  executionCtx: ExecutionContext
}): (promise: Promise<unknown>) => void {
  try {
    const executionCtx = c.executionCtx
    return (promise) => executionCtx.waitUntil(promise)
  } catch {
    return (promise) => {
      promise.catch(() => {})
    }
  }
}
