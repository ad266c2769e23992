import worker from '@synthstack/edge-api'
import { startTestStack, type TestStack } from '@synthstack/testing'

export interface AppUnderTest {
  /** A `fetch` that runs the real edge API in this process (it is Web-standard). */
  fetch: typeof fetch
  close(): Promise<void>
}

/** The edge API against freshly started emulators, for the SDK's tests. */
export async function startAppUnderTest(): Promise<AppUnderTest> {
  const stack: TestStack = await startTestStack()
  const bindings = { ...stack.env, ENVIRONMENT: 'test', PASSWORD_PBKDF2_ITERATIONS: '10000' }
  const pending: Promise<unknown>[] = []
  const ctx = {
    waitUntil: (p: Promise<unknown>) => void pending.push(p),
    passThroughOnException: () => {},
    props: {},
  }
  return {
    fetch: (input, init) =>
      Promise.resolve(
        worker.fetch(new Request(input as RequestInfo, init), bindings, ctx as never),
      ),
    async close() {
      await Promise.allSettled(pending)
      await stack.close()
    },
  }
}
