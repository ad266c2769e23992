/**
 * What a text is for. Asymmetric retrieval embedders (e5, bge, nomic …) are trained with one
 * instruction before queries and another before passages; a search that embeds both sides the
 * same way loses recall. `document` is accepted for `passage` (Cohere's and Voyage's word).
 */
export const INPUT_TYPES = ['query', 'passage', 'document'] as const
export type InputType = 'query' | 'passage'

export const inputTypeOf = (value: (typeof INPUT_TYPES)[number] | undefined) =>
  value === 'document' ? 'passage' : value

/** A model's text prefixes (synthstack.json or its registry entry). */
export interface TextPrefixes {
  /** Put before every input that names no input_type, or one the model has no prefix for. */
  prefix?: string
  queryPrefix?: string
  passagePrefix?: string
}

export function textPrefix(meta: TextPrefixes, type: InputType | undefined): string {
  if (type === 'query' && meta.queryPrefix !== undefined) return meta.queryPrefix
  if (type === 'passage' && meta.passagePrefix !== undefined) return meta.passagePrefix
  return meta.prefix ?? ''
}

/** For `/v1/models`: what each input_type puts before the text, when the model uses any. */
export function textPrefixesCard(meta: TextPrefixes) {
  if (!meta.prefix && !meta.queryPrefix && !meta.passagePrefix) return {}
  return {
    text_prefixes: {
      default: textPrefix(meta, undefined),
      query: textPrefix(meta, 'query'),
      passage: textPrefix(meta, 'passage'),
    },
  }
}
