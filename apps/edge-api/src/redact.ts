/** Longest error text a health check reports. */
const MAX_LENGTH = 300

/**
 * Makes an error text safe to show: removes every known secret value (and the password inside
 * connection strings), hides URL credentials, and shortens it.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text
  const values = new Set<string>()
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue
    values.add(secret)
    try {
      const url = new URL(secret)
      if (url.password) values.add(decodeURIComponent(url.password))
      if (url.password) values.add(url.password)
    } catch {
      // not a URL
    }
  }
  for (const value of [...values].sort((a, b) => b.length - a.length)) {
    out = out.split(value).join('***')
  }
  out = out.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1***@')
  out = out.replace(/(bearer\s+)[^\s"',]+/gi, '$1***')
  return out.length > MAX_LENGTH ? `${out.slice(0, MAX_LENGTH - 1)}…` : out
}

/** Binding names whose values are secret: tokens, keys, passwords, connection strings. */
const SECRET_NAME = /TOKEN|KEY|SECRET|PASSWORD|DATABASE_URL/

/** Every secret-looking value among the bindings, for `redact`. */
export function secretValues(bindings: object | undefined): string[] {
  if (!bindings) return []
  return Object.entries(bindings)
    .filter(([name, value]) => SECRET_NAME.test(name) && typeof value === 'string')
    .map(([, value]) => value as string)
}
