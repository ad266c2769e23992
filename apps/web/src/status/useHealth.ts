import { onScopeDispose, type Ref, ref, shallowRef } from 'vue'
import { type Api, ApiError } from '../api/client'
import { fetchHealth, type HealthResult } from '../api/health'

export interface UseHealthOptions {
  client: Api
  /** Auto-refresh period while the page is visible; 10 s. */
  intervalMs?: number
}

export interface UseHealth {
  result: Ref<HealthResult | null>
  error: Ref<ApiError | null>
  loading: Ref<boolean>
  refresh: () => Promise<void>
}

/**
 * Loads `/health` now, then every `intervalMs` while the document is visible.
 * Hidden tabs stop polling; coming back refreshes at once if the data is stale.
 * Must be called inside a component's setup (stops on unmount).
 */
export function useHealth({ client, intervalMs = 10_000 }: UseHealthOptions): UseHealth {
  const result = shallowRef<HealthResult | null>(null)
  const error = shallowRef<ApiError | null>(null)
  const loading = ref(false)
  let inFlight: AbortController | null = null
  let timer: ReturnType<typeof setTimeout> | undefined
  let lastAttempt = 0
  let stopped = false

  const visible = () => typeof document === 'undefined' || document.visibilityState === 'visible'

  function schedule() {
    clearTimeout(timer)
    if (!stopped && visible()) timer = setTimeout(() => void refresh(), intervalMs)
  }

  async function refresh(): Promise<void> {
    inFlight?.abort()
    const controller = new AbortController()
    inFlight = controller
    loading.value = true
    lastAttempt = Date.now()
    try {
      result.value = await fetchHealth(client, { signal: controller.signal })
      error.value = null
    } catch (e) {
      if (controller.signal.aborted) return // superseded by a newer refresh, or unmounted
      result.value = null
      error.value =
        e instanceof ApiError
          ? e
          : new ApiError({
              status: 0,
              type: 'client_error',
              message: e instanceof Error ? e.message : String(e),
              url: client.url('/health'),
            })
    } finally {
      if (inFlight === controller) {
        inFlight = null
        loading.value = false
        schedule()
      }
    }
  }

  function onVisibilityChange() {
    if (!visible()) {
      clearTimeout(timer)
      return
    }
    if (Date.now() - lastAttempt >= intervalMs) void refresh()
    else if (!inFlight) schedule()
  }

  if (typeof document !== 'undefined') {
    document.addEventListener('visibilitychange', onVisibilityChange)
  }
  onScopeDispose(() => {
    stopped = true
    clearTimeout(timer)
    inFlight?.abort()
    if (typeof document !== 'undefined') {
      document.removeEventListener('visibilitychange', onVisibilityChange)
    }
  })

  void refresh()
  return { result, error, loading, refresh }
}
