/** The error a request whose client went away ends with (the batcher throws the same). */
export const clientGone = () => new Error('request aborted by the client')

/**
 * Waits for `work` on behalf of one request: rejects with `onTimeout()` once `ms` have passed, or
 * with `clientGone()` as soon as `signal` aborts. `work` itself carries on (a model load that
 * later requests still want); only this request stops waiting for it.
 */
export function within<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  signal?: AbortSignal,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(clientGone())
  if (ms <= 0) return Promise.reject(onTimeout())
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    const timer = setTimeout(() => {
      done()
      reject(onTimeout())
    }, ms)
    const onAbort = () => {
      done()
      reject(clientGone())
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    work.then(
      (v) => {
        done()
        resolve(v)
      },
      (err: unknown) => {
        done()
        reject(err)
      },
    )
  })
}
