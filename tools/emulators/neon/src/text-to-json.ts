// What Neon's SQL-over-HTTP does with values when `Neon-Raw-Text-Output` is not `true`:
// booleans, int2/int4, float4/float8 and json/jsonb become JSON values, arrays become JSON arrays
// and everything else (int8, numeric, dates, ...) stays Postgres text. Parameters go the other
// way: JSON values become Postgres text.

const BOOL = 16
const INT2 = 21
const INT4 = 23
const FLOAT4 = 700
const FLOAT8 = 701
const JSON_OID = 114
const JSONB = 3802

/** Array type OID → element type OID for the built-in types. */
const ARRAY_ELEMENT: Record<number, number> = {
  1000: BOOL,
  1001: 17,
  1002: 18,
  1003: 19,
  1005: INT2,
  1007: INT4,
  1009: 25,
  1014: 1042,
  1015: 1043,
  1016: 20,
  1021: FLOAT4,
  1022: FLOAT8,
  1028: 26,
  1115: 1114,
  1182: 1082,
  1183: 1083,
  1185: 1184,
  1187: 1186,
  1231: 1700,
  1270: 1266,
  199: JSON_OID,
  2951: 2950,
  3807: JSONB,
}

export function pgTextToJson(text: string, typeId: number): unknown {
  const element = ARRAY_ELEMENT[typeId]
  if (element !== undefined) return parseArray(text, element)
  switch (typeId) {
    case BOOL:
      return text === 't'
    case INT2:
    case INT4:
      return Number.parseInt(text, 10)
    case FLOAT4:
    case FLOAT8: {
      const value = Number(text)
      return Number.isFinite(value) ? value : text
    }
    case JSON_OID:
    case JSONB:
      return JSON.parse(text)
    default:
      return text
  }
}

function parseArray(text: string, element: number): unknown[] {
  let input = text
  // Bounds decoration such as `[1:2]={...}` cannot be shown in JSON; skip it like Neon does.
  if (input.startsWith('[')) input = input.slice(input.indexOf('=') + 1)
  let pos = 0
  const fail = (): never => {
    throw new Error('unbalanced array')
  }
  const skipSpace = () => {
    while (pos < input.length && /\s/.test(input[pos] as string)) pos++
  }
  const parseLevel = (): unknown[] => {
    skipSpace()
    if (input[pos] !== '{') fail()
    pos++
    const out: unknown[] = []
    skipSpace()
    if (input[pos] === '}') {
      pos++
      return out
    }
    for (;;) {
      skipSpace()
      if (input[pos] === '{') {
        out.push(parseLevel())
      } else if (input[pos] === '"') {
        pos++
        let value = ''
        while (pos < input.length && input[pos] !== '"') {
          if (input[pos] === '\\') pos++
          value += input[pos] ?? ''
          pos++
        }
        if (input[pos] !== '"') fail()
        pos++
        out.push(pgTextToJson(value, element))
      } else {
        const start = pos
        while (pos < input.length && input[pos] !== ',' && input[pos] !== '}') pos++
        const item = input.slice(start, pos).trim()
        out.push(item === 'NULL' ? null : pgTextToJson(item, element))
      }
      skipSpace()
      if (input[pos] === ',') {
        pos++
        continue
      }
      if (input[pos] === '}') {
        pos++
        return out
      }
      fail()
    }
  }
  const result = parseLevel()
  skipSpace()
  if (pos !== input.length) fail()
  return result
}

/** A JSON parameter as Postgres text, the way Neon's endpoint converts it. */
export function jsonToPgText(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return jsonToPgArray(value)
  return JSON.stringify(value)
}

function jsonToPgArray(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (Array.isArray(value)) return `{${value.map(jsonToPgArray).join(',')}}`
  if (typeof value === 'object') return JSON.stringify(JSON.stringify(value))
  return JSON.stringify(value)
}
