/** Display formats shared by the pages (the browser's locale, UTC where the API counts in UTC). */

const number = new Intl.NumberFormat(undefined)
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 })

export const formatNumber = (n: number): string => number.format(n)
export const formatCompact = (n: number): string => compact.format(n)

/** "2 minutes", "45 seconds", "1 hour 5 minutes": for Retry-After waits. */
export function formatWait(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds))
  if (s < 60) return plural(s, 'second')
  const minutes = Math.ceil(s / 60)
  if (minutes < 60) return plural(minutes, 'minute')
  const hours = Math.floor(minutes / 60)
  const rest = minutes % 60
  return rest === 0 ? plural(hours, 'hour') : `${plural(hours, 'hour')} ${plural(rest, 'minute')}`
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`

/** "May 3, 2026" (or the locale's form). */
export function formatDate(iso: string | null): string {
  if (!iso) return '—'
  const d = new Date(iso)
  return Number.isNaN(d.getTime())
    ? '—'
    : d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' })
}

/** "just now", "5 minutes ago", "3 days ago"; `null` → "Never". */
export function formatRelative(iso: string | null, now = Date.now()): string {
  if (!iso) return 'Never'
  const t = new Date(iso).getTime()
  if (Number.isNaN(t)) return '—'
  const seconds = Math.round((t - now) / 1000)
  if (Math.abs(seconds) < 45) return 'just now'
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' })
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ['minute', 60],
    ['hour', 3600],
    ['day', 86_400],
    ['month', 2_592_000],
    ['year', 31_536_000],
  ]
  let unit: Intl.RelativeTimeFormatUnit = 'minute'
  let size = 60
  for (const [u, s] of steps) {
    if (Math.abs(seconds) >= s) {
      unit = u
      size = s
    }
  }
  return rtf.format(Math.round(seconds / size), unit)
}

/** "2026-05" → "May 2026" (a UTC month, as budgets count). */
export function formatMonth(month: string): string {
  const d = new Date(`${month}-01T00:00:00Z`)
  return Number.isNaN(d.getTime())
    ? month
    : d.toLocaleDateString(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' })
}
