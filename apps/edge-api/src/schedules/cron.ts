import { Cron } from 'croner'

export type CronCheck = { ok: true; cron: Cron } | { ok: false; message: string }

/**
 * Parses a cron expression the way QStash reads it: five fields (minute hour day-of-month month
 * day-of-week), optionally prefixed with `CRON_TZ=<IANA zone> `. Seconds fields and nicknames
 * that QStash refuses are refused here too, so a schedule that passes here is one QStash takes.
 */
export function parseCron(expression: string): CronCheck {
  let pattern = expression.trim()
  let timezone: string | undefined
  const tz = /^CRON_TZ=(\S+)\s+(.*)$/.exec(pattern)
  if (tz) {
    timezone = tz[1]
    pattern = (tz[2] as string).trim()
  }
  if (pattern.split(/\s+/).length !== 5) {
    return {
      ok: false,
      message: 'must have five fields: minute hour day-of-month month day-of-week',
    }
  }
  try {
    const cron = new Cron(pattern, { paused: true, mode: '5-part', ...(timezone && { timezone }) })
    if (!cron.nextRun()) return { ok: false, message: 'never fires' }
    return { ok: true, cron }
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'invalid'
    return { ok: false, message: reason.slice(0, 200) }
  }
}

/** The next `count` firing times after `from`, by the cron clock (not QStash's). */
export function nextRuns(expression: string, count: number, from = new Date()): Date[] {
  const parsed = parseCron(expression)
  return parsed.ok ? parsed.cron.nextRuns(count, from) : []
}
