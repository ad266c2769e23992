/**
 * Lua script handling shared by both backends.
 *
 * `@upstash/ratelimit` scripts start with `#!lua flags=allow-key-locking`, a flag Redis 7.0 does
 * not know ("Unexpected flag in script shebang"). The emulator drops unknown flags before EVAL
 * and SCRIPT LOAD and remembers which SHA1 the client computed (of the original text) for the
 * script it really loaded, so EVALSHA with the client's SHA1 keeps working.
 */
import { createHash } from 'node:crypto'

/** Shebang flags Redis 7.0 accepts. */
const KNOWN_FLAGS = new Set([
  'no-writes',
  'allow-oom',
  'allow-stale',
  'no-cluster',
  'allow-cross-slot-keys',
])

export function sha1hex(text: string | Buffer): string {
  return createHash('sha1').update(text).digest('hex')
}

const SHEBANG = /^#!lua(?<rest>[^\n]*)/

/** Removes shebang flags Redis 7.0 rejects; returns the text unchanged when nothing is to drop. */
export function stripUnknownFlags(script: string): string {
  const match = SHEBANG.exec(script)
  if (!match?.groups) return script
  const rest = match.groups.rest ?? ''
  const flagsMatch = /(^|\s)flags=(?<flags>\S*)/.exec(rest)
  if (!flagsMatch?.groups) return script
  const flags = (flagsMatch.groups.flags ?? '').split(',').filter(Boolean)
  const kept = flags.filter((flag) => KNOWN_FLAGS.has(flag))
  if (kept.length === flags.length) return script
  const other = rest.replace(flagsMatch[0], '').trim()
  const shebang = ['#!lua', other, kept.length ? `flags=${kept.join(',')}` : '']
    .filter(Boolean)
    .join(' ')
  return shebang + script.slice(match[0].length)
}

/** Maps the SHA1 a client computed to the SHA1 of the script the backend really holds. */
export class ScriptShaMap {
  private readonly map = new Map<string, string>()

  remember(clientSha: string, backendSha: string): void {
    if (clientSha !== backendSha) this.map.set(clientSha, backendSha)
  }

  resolve(sha: string): string {
    return this.map.get(sha.toLowerCase()) ?? sha
  }

  get size(): number {
    return this.map.size
  }
}
