/** Parsed JSON from the API; tests read fields by name and let the assertions check them. */
// biome-ignore lint/suspicious/noExplicitAny: test helper over arbitrary JSON responses
export type Json = any

/** A small client for the jobs API, as a third party would call it. */
export function jobsClient(apiUrl: string, apiKey: string) {
  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${apiUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        ...(init.headers as Record<string, string>),
      },
    })
    const text = await response.text()
    let body: Json = null
    try {
      body = text ? JSON.parse(text) : null
    } catch {
      body = text
    }
    return { status: response.status, body, headers: response.headers }
  }
  const enqueue = (job: Record<string, unknown>) =>
    call('/v1/jobs', { method: 'POST', body: JSON.stringify(job) })
  const get = (id: string) => call(`/v1/jobs/${id}`)
  /** Polls until the job reaches one of `statuses`. */
  const waitFor = async (id: string, statuses: string[], timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs
    let last: Json
    while (Date.now() < deadline) {
      last = (await get(id)).body
      if (statuses.includes(last?.status)) return last
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`job ${id} did not reach ${statuses.join('|')}: ${JSON.stringify(last)}`)
  }
  return { call, enqueue, get, waitFor, auth: `Bearer ${apiKey}` }
}
