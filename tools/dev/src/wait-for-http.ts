/**
 * Polls a URL until it answers (any status below 500) or the deadline passes. An answer that says
 * the service's configuration is invalid (the edge API's `config_invalid` error, which names the
 * variable) fails at once: waiting would not fix it.
 */
export async function waitForHttp(
  url: string,
  timeoutMs: number,
  isAlive: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError = 'no answer'
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`exited before ${url} answered`)
    let response: Response | undefined
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      if (response.status < 500) {
        await response.body?.cancel()
        return
      }
      lastError = `HTTP ${response.status}`
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error)
    }
    const configProblem = response ? await configErrorOf(response) : null
    if (configProblem) throw new Error(configProblem)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`${url} did not answer within ${Math.round(timeoutMs / 1000)} s (${lastError})`)
}

async function configErrorOf(response: Response): Promise<string | null> {
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } }
    return body.error?.code === 'config_invalid' && typeof body.error.message === 'string'
      ? body.error.message
      : null
  } catch {
    return null
  }
}
