import { describe, expect, it } from 'vitest'
import { inputTypeOf, textPrefix, textPrefixesCard } from './input-type.js'

describe('input_type prefixes', () => {
  const e5 = { prefix: 'query: ', queryPrefix: 'query: ', passagePrefix: 'passage: ' }

  it('picks the prefix of the input type, else the default, else none', () => {
    expect(textPrefix(e5, 'query')).toBe('query: ')
    expect(textPrefix(e5, 'passage')).toBe('passage: ')
    expect(textPrefix(e5, undefined)).toBe('query: ')
    const bgeQueryOnly = { queryPrefix: 'Represent this sentence: ' }
    expect(textPrefix(bgeQueryOnly, 'query')).toBe('Represent this sentence: ')
    expect(textPrefix(bgeQueryOnly, 'passage')).toBe('')
    expect(textPrefix({}, 'query')).toBe('')
  })

  it('reads document as passage', () => {
    expect(inputTypeOf('document')).toBe('passage')
    expect(inputTypeOf('query')).toBe('query')
    expect(inputTypeOf(undefined)).toBeUndefined()
  })

  it('shows the prefixes in the model card only when the model has any', () => {
    expect(textPrefixesCard({})).toEqual({})
    expect(textPrefixesCard({ passagePrefix: 'passage: ' })).toEqual({
      text_prefixes: { default: '', query: '', passage: 'passage: ' },
    })
  })
})
