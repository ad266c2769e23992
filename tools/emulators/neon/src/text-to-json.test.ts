import { describe, expect, it } from 'vitest'
import { jsonToPgText, pgTextToJson } from './text-to-json'

describe('pgTextToJson (Neon-Raw-Text-Output off)', () => {
  it('converts scalars like Neon', () => {
    expect(pgTextToJson('t', 16)).toBe(true)
    expect(pgTextToJson('f', 16)).toBe(false)
    expect(pgTextToJson('42', 23)).toBe(42)
    expect(pgTextToJson('42', 20)).toBe('42')
    expect(pgTextToJson('1.25', 701)).toBe(1.25)
    expect(pgTextToJson('NaN', 701)).toBe('NaN')
    expect(pgTextToJson('{"a": [1]}', 3802)).toEqual({ a: [1] })
    expect(pgTextToJson('2024-01-01', 1082)).toBe('2024-01-01')
  })

  it('parses arrays, nested, quoted and NULL items', () => {
    expect(pgTextToJson('{1,NULL,3}', 1007)).toEqual([1, null, 3])
    expect(pgTextToJson('{{1,2},{3,4}}', 1007)).toEqual([
      [1, 2],
      [3, 4],
    ])
    expect(pgTextToJson('{"a b","c\\"d",NULL,"NULL",""}', 1009)).toEqual([
      'a b',
      'c"d',
      null,
      'NULL',
      '',
    ])
    expect(pgTextToJson('[0:1]={t,f}', 1000)).toEqual([true, false])
    expect(pgTextToJson('{}', 1009)).toEqual([])
    expect(() => pgTextToJson('{1,2', 1007)).toThrow('unbalanced array')
  })
})

describe('jsonToPgText (parameters)', () => {
  it('converts JSON values like Neon', () => {
    expect(jsonToPgText(null)).toBeNull()
    expect(jsonToPgText('x')).toBe('x')
    expect(jsonToPgText(42)).toBe('42')
    expect(jsonToPgText(true)).toBe('true')
    expect(jsonToPgText({ k: 1 })).toBe('{"k":1}')
    expect(jsonToPgText([true, null, 'NULL', 42, 'a"b'])).toBe('{true,NULL,"NULL",42,"a\\"b"}')
    expect(jsonToPgText([[1], [2]])).toBe('{{1},{2}}')
    expect(jsonToPgText([{ a: 1 }])).toBe('{"{\\"a\\":1}"}')
  })
})
