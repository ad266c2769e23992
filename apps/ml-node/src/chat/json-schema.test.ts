import { describe, expect, it } from 'vitest'
import type { ApiError } from '../http/errors.js'
import { grammarSchema } from './json-schema.js'

const refusal = (schema: unknown) => {
  try {
    grammarSchema(schema)
  } catch (err) {
    return err as ApiError
  }
  throw new Error('expected a 400')
}

describe('grammarSchema', () => {
  it('keeps what the grammar enforces, and turns anyOf into oneOf', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 20, description: 'who' },
        when: { type: 'string', format: 'date' },
        tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 },
        maybe: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
        ref: { $ref: '#/$defs/point' },
      },
      required: ['name'],
      additionalProperties: false,
      $defs: { point: { type: 'array', prefixItems: [{ type: 'number' }, { type: 'number' }] } },
    }
    const out = grammarSchema(schema) as { properties: Record<string, Record<string, unknown>> }
    expect(out.properties.maybe).toEqual({ oneOf: [{ type: 'integer' }, { type: 'null' }] })
    expect(out.properties.name).toEqual(schema.properties.name)
  })

  it('refuses, naming the spot, what it would otherwise drop without a word', () => {
    for (const [schema, where] of [
      [{ type: 'nonsense' }, 'type'],
      [
        { type: 'object', properties: { a: { type: 'string', pattern: '^x$' } } },
        'properties.a.pattern',
      ],
      [{ type: 'number', minimum: 3 }, 'minimum'],
      [{ allOf: [{ type: 'string' }] }, 'allOf'],
      [{ type: 'string', format: 'email' }, 'format'],
      [{ $ref: 'https://example.com/s.json' }, '$ref'],
      [{ type: 'array', items: { not: { type: 'null' } } }, 'items.not'],
    ] as const) {
      const err = refusal(schema)
      expect(err.status, where).toBe(400)
      expect(err.param).toBe('response_format.json_schema.schema')
      expect(err.message, where).toContain(where)
    }
  })
})
