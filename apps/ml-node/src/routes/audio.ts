import { Hono } from 'hono'
import type { Transcriber } from '../audio/transcriber.js'
import { badRequest } from '../http/errors.js'

const FORMATS = ['json', 'text', 'verbose_json'] as const

const names = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' })
/** OpenAI's verbose_json names the language in lower-case English ('en' → 'english'). */
export const languageName = (code: string) => (names.of(code) ?? code).toLowerCase()

export function audioRoutes(transcriber: Transcriber) {
  const app = new Hono()
  app.post('/v1/audio/transcriptions', async (c) => {
    const type = c.req.header('content-type') ?? ''
    if (!type.startsWith('multipart/form-data')) {
      throw badRequest(
        'file',
        'Send the audio as multipart/form-data with a `file` field.',
        'invalid_content_type',
      )
    }
    let form: Record<string, string | File | (string | File)[]>
    try {
      form = await c.req.parseBody()
    } catch {
      throw badRequest('body', 'We could not parse the multipart body.', 'invalid_multipart')
    }
    const file = form.file
    if (!(file instanceof File))
      throw badRequest('file', "Missing required parameter: 'file'.", 'missing_required_parameter')
    if (file.size === 0) throw badRequest('file', "'file' is empty.")
    const asked = form.model
    if (asked !== undefined && (typeof asked !== 'string' || asked === '')) {
      throw badRequest('model', "'model' must be a model id or alias.")
    }
    // An alias becomes its model; no model (or `default`) the registry's defaults.transcription.
    const model = transcriber.resolve(asked)
    const format = form.response_format ?? 'json'
    if (typeof format !== 'string' || !(FORMATS as readonly string[]).includes(format)) {
      throw badRequest('response_format', `'response_format' must be one of ${FORMATS.join(', ')}.`)
    }
    const language = form.language
    if (language !== undefined) {
      if (typeof language !== 'string' || !/^[a-z]{2,3}$/.test(language)) {
        throw badRequest('language', "'language' must be an ISO-639-1 code such as 'en'.")
      }
      if (!transcriber.acceptsLanguage(model, language)) {
        const langs = transcriber.languagesOf(model) ?? []
        throw badRequest(
          'language',
          langs.length === 1 && langs[0] === 'en'
            ? `Model '${model}' on this node transcribes English only ('en').`
            : `Model '${model}' on this node does not know '${language}'; it takes ${langs.join(', ')}.`,
        )
      }
    }
    const t = await transcriber.transcribe(
      model,
      new Uint8Array(await file.arrayBuffer()),
      file.name,
      { language, timestamps: format === 'verbose_json', signal: c.req.raw.signal },
    )
    if (format === 'text') return c.text(t.text)
    if (format === 'json') return c.json({ text: t.text })
    return c.json({
      task: 'transcribe',
      language: languageName(t.language),
      duration: t.duration,
      text: t.text,
      segments: t.segments.map((s) => ({
        id: s.id,
        seek: 0,
        start: s.start,
        end: s.end,
        text: s.text,
        tokens: [],
        temperature: 0,
        avg_logprob: s.words.length
          ? s.words.reduce((a, w) => a + Math.log(Math.max(w.probability, 1e-6)), 0) /
            s.words.length
          : 0,
        compression_ratio: 1,
        no_speech_prob: 0,
      })),
      words: t.segments.flatMap((s) =>
        s.words.map(({ word, start, end }) => ({ word, start, end })),
      ),
    })
  })
  return app
}
