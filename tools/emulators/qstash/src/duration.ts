/**
 * Durations and retry delays as QStash reads them.
 *
 * - `Upstash-Delay` / `Upstash-Timeout`: `<number><unit>` groups, units d, h, m, s, ms
 *   (`50s`, `1d10h30m`, `1.5h`). A bare `0` is allowed; any other bare number is not.
 * - default backoff after the n-th retry is scheduled: `min(86400, e^(2.5·n))` seconds.
 * - `Upstash-Retry-Delay`: an arithmetic expression in milliseconds over the variable
 *   `retried` (0 for the first retry) with pow, exp, sqrt, abs, floor, ceil, round, min, max.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const GROUP = /(\d+(?:\.\d+)?)(ms|d|h|m|s)/y

/** Parses a QStash duration into milliseconds; returns undefined when it is not one. */
export function parseDuration(input: string): number | undefined {
  const text = input.trim()
  if (text === '0') return 0
  if (text.length === 0) return undefined
  let total = 0
  GROUP.lastIndex = 0
  while (GROUP.lastIndex < text.length) {
    const start = GROUP.lastIndex
    const match = GROUP.exec(text)
    if (!match || match.index !== start) return undefined
    const unit = UNIT_MS[match[2] as string] as number
    total += Number(match[1]) * unit
  }
  return Number.isFinite(total) ? Math.round(total) : undefined
}

/** QStash's default backoff, in milliseconds, before retry number `n` (1 = first retry). */
export function defaultBackoffMs(n: number): number {
  return Math.min(86_400, Math.exp(2.5 * n)) * 1000
}

type Token =
  | { kind: 'num'; value: number }
  | { kind: 'id'; name: string }
  | { kind: 'op'; op: string }

const FUNCTIONS: Record<string, { arity: number; fn: (...args: number[]) => number }> = {
  pow: { arity: 2, fn: (x, y) => x ** y },
  exp: { arity: 1, fn: Math.exp },
  sqrt: { arity: 1, fn: Math.sqrt },
  abs: { arity: 1, fn: Math.abs },
  floor: { arity: 1, fn: Math.floor },
  ceil: { arity: 1, fn: Math.ceil },
  round: { arity: 1, fn: Math.round },
  min: { arity: 2, fn: Math.min },
  max: { arity: 2, fn: Math.max },
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < source.length) {
    const ch = source[i] as string
    if (/\s/.test(ch)) {
      i++
    } else if (/[0-9.]/.test(ch)) {
      const match = /^\d*\.?\d+(?:e[+-]?\d+)?/i.exec(source.slice(i))
      if (!match) throw new Error(`unexpected '${ch}' at ${i}`)
      tokens.push({ kind: 'num', value: Number(match[0]) })
      i += match[0].length
    } else if (/[a-z_]/i.test(ch)) {
      const match = /^[a-z_][a-z0-9_]*/i.exec(source.slice(i)) as RegExpExecArray
      tokens.push({ kind: 'id', name: match[0] })
      i += match[0].length
    } else if ('+-*/%(),'.includes(ch)) {
      tokens.push({ kind: 'op', op: ch })
      i++
    } else {
      throw new Error(`unexpected '${ch}' at ${i}`)
    }
  }
  return tokens
}

type Node = (retried: number) => number

/** Compiles a retry-delay expression; throws with a reason when it is malformed. */
export function compileRetryDelay(expression: string): (retried: number) => number {
  if (expression.length > 512) throw new Error('expression too long')
  const tokens = tokenize(expression)
  let pos = 0
  const peek = () => tokens[pos]
  const isOp = (op: string) => {
    const t = peek()
    return t?.kind === 'op' && t.op === op
  }
  const expect = (op: string) => {
    if (!isOp(op)) throw new Error(`expected '${op}'`)
    pos++
  }
  const primary = (): Node => {
    const t = peek()
    if (!t) throw new Error('unexpected end of expression')
    pos++
    if (t.kind === 'num') return () => t.value
    if (t.kind === 'op' && t.op === '(') {
      const inner = sum()
      expect(')')
      return inner
    }
    if (t.kind === 'op' && (t.op === '-' || t.op === '+')) {
      const operand = primary()
      return t.op === '-' ? (r) => -operand(r) : operand
    }
    if (t.kind === 'id') {
      if (t.name === 'retried') return (r) => r
      const fn = FUNCTIONS[t.name]
      if (!fn) throw new Error(`unknown identifier '${t.name}'`)
      expect('(')
      const args: Node[] = [sum()]
      while (isOp(',')) {
        pos++
        args.push(sum())
      }
      expect(')')
      if (args.length !== fn.arity) throw new Error(`${t.name} takes ${fn.arity} argument(s)`)
      return (r) => fn.fn(...args.map((a) => a(r)))
    }
    throw new Error(`unexpected '${t.op}'`)
  }
  const product = (): Node => {
    let left = primary()
    while (isOp('*') || isOp('/') || isOp('%')) {
      const op = (tokens[pos++] as { op: string }).op
      const right = primary()
      const l = left
      left =
        op === '*'
          ? (r) => l(r) * right(r)
          : op === '/'
            ? (r) => l(r) / right(r)
            : (r) => l(r) % right(r)
    }
    return left
  }
  const sum = (): Node => {
    let left = product()
    while (isOp('+') || isOp('-')) {
      const op = (tokens[pos++] as { op: string }).op
      const right = product()
      const l = left
      left = op === '+' ? (r) => l(r) + right(r) : (r) => l(r) - right(r)
    }
    return left
  }
  const root = sum()
  if (pos !== tokens.length) throw new Error('unexpected trailing input')
  return (retried) => {
    const value = root(retried)
    return Number.isFinite(value) && value > 0 ? value : 0
  }
}
