import { createRequire } from 'node:module'
import nlp from 'compromise'
import { getLIDModel } from 'fasttext.wasm.js'
import model from 'wink-eng-lite-web-model'
import winkNLP, { type ItemToken } from 'wink-nlp'
import type { Config } from '../config.js'
import type { Metrics } from '../metrics.js'
import { ModelLoad } from '../models/model-load.js'
import { card, type ModelCard } from '../models/registry.js'

// vader-sentiment ships no types; its one function is typed here.
const vader = createRequire(import.meta.url)('vader-sentiment') as {
  SentimentIntensityAnalyzer: {
    polarity_scores(text: string): { neg: number; neu: number; pos: number; compound: number }
  }
}

export const ANALYSIS_TASKS = ['language', 'sentiment', 'entities', 'keywords', 'summary'] as const
export type AnalysisTask = (typeof ANALYSIS_TASKS)[number]

export interface Entity {
  text: string
  type: string
  start: number
  end: number
  source: 'wink-nlp' | 'compromise'
}

export const LID_MODEL = 'fasttext-lid-176'

/** fastText's card is per node: its status is whatever its load did. */
const lidCard = () =>
  card({
    id: LID_MODEL,
    task: 'language-id',
    kind: 'neural-linear (fastText)',
    family: 'fastText lid.176 (compressed .ftz), 176 languages',
    runtime: 'fastText wasm',
    source: 'npm:fasttext.wasm.js@1.0.0 (lid.176.ftz)',
    license: 'CC-BY-SA-3.0 (model), MIT (wrapper)',
    status: 'loading',
  })

type Lid = Awaited<ReturnType<typeof getLIDModel>>

export async function loadFastText(): Promise<Lid> {
  const m = await getLIDModel()
  await m.load()
  return m
}

/** Lexicon and rule models: plain code, nothing to load. */
export const ruleModels: ModelCard[] = [
  card({
    id: 'vader-lexicon',
    task: 'sentiment',
    kind: 'lexicon',
    family: 'VADER (Hutto & Gilbert 2014), English',
    runtime: 'JavaScript',
    source: 'npm:vader-sentiment@1.1.3',
    license: 'MIT',
    status: 'ready',
  }),
  card({
    id: 'wink-eng-lite',
    task: 'entities',
    kind: 'rule-based',
    family:
      'wink-nlp English lite model: entities (dates, money, numbers, emails, URLs...), POS, sentence importance',
    runtime: 'JavaScript',
    source: 'npm:wink-nlp + npm:wink-eng-lite-web-model',
    license: 'MIT',
    status: 'ready',
  }),
  card({
    id: 'compromise',
    task: 'entities',
    kind: 'rule-based',
    family: 'compromise: people, places, organisations from a lexicon and rules, English',
    runtime: 'JavaScript',
    source: 'npm:compromise@14',
    license: 'MIT',
    status: 'ready',
  }),
]

const round = (x: number) => Math.round(x * 10_000) / 10_000

/** Language, sentiment, entities, keywords and an extractive summary, all lexicon or rule based. */
export class Analyzer {
  private readonly wink = winkNLP(model)
  private lid: Lid | null = null
  private readonly lidCard = lidCard()
  private readonly lidLoad: ModelLoad

  constructor(
    config: Pick<Config, 'MODEL_LOAD_RETRY_MS' | 'MODEL_LOAD_RETRY_MAX_MS'>,
    metrics?: Metrics,
    /** How fastText lid.176 is loaded (tests pass a failing one). */
    loadLid: () => Promise<Lid> = loadFastText,
  ) {
    this.lidLoad = new ModelLoad({
      card: this.lidCard,
      load: async () => {
        this.lid = await loadLid()
        return undefined
      },
      retryMs: config.MODEL_LOAD_RETRY_MS,
      maxRetryMs: config.MODEL_LOAD_RETRY_MAX_MS,
      metrics,
    })
  }

  /** Loads fastText; a failure is reported on its card (and 503s language), never thrown. */
  start() {
    return this.lidLoad.start()
  }

  cards(): ModelCard[] {
    return [this.lidCard, ...ruleModels]
  }

  close() {
    this.lidLoad.close()
  }

  async analyze(
    text: string,
    tasks: readonly AnalysisTask[],
    opts: { maxKeywords: number; summarySentences: number },
  ) {
    const out: Record<string, unknown> = {}
    const want = new Set(tasks)
    if (want.has('language')) out.language = await this.language(text)
    if (want.has('sentiment')) out.sentiment = this.sentiment(text)
    const needDoc = want.has('entities') || want.has('keywords') || want.has('summary')
    const doc = needDoc ? this.wink.readDoc(text) : null
    if (doc && want.has('entities')) out.entities = this.entities(text, doc)
    if (doc && want.has('keywords')) out.keywords = this.keywords(doc, opts.maxKeywords)
    if (doc && want.has('summary')) out.summary = this.summary(doc, opts.summarySentences)
    return out
  }

  async language(text: string) {
    await this.lidLoad.ensure()
    const lid = this.lid as NonNullable<typeof this.lid>
    const top = await lid.identify(text.replace(/\s+/g, ' ').trim(), 3)
    const [best, ...rest] = top
    return {
      model: 'fasttext-lid-176',
      code: best?.alpha2 ?? best?.alpha3 ?? 'und',
      iso639_3: best?.alpha3 ?? 'und',
      name: best?.refName ?? 'Undetermined',
      confidence: round(best?.possibility ?? 0),
      alternatives: rest.map((r) => ({
        code: r.alpha2 ?? r.alpha3,
        confidence: round(r.possibility),
      })),
    }
  }

  sentiment(text: string) {
    const s = vader.SentimentIntensityAnalyzer.polarity_scores(text)
    const label = s.compound >= 0.05 ? 'positive' : s.compound <= -0.05 ? 'negative' : 'neutral'
    return {
      model: 'vader-lexicon',
      kind: 'lexicon',
      label,
      compound: round(s.compound),
      positive: round(s.pos),
      neutral: round(s.neu),
      negative: round(s.neg),
    }
  }

  entities(text: string, doc: ReturnType<typeof this.wink.readDoc>): Entity[] {
    const its = this.wink.its
    const found: Entity[] = []
    const place = (value: string, type: string, source: Entity['source']) => {
      let from = 0
      while (true) {
        const start = text.indexOf(value, from)
        if (start < 0) return
        const end = start + value.length
        from = end
        if (!found.some((f) => start < f.end && f.start < end)) {
          found.push({ text: value, type, start, end, source })
          return
        }
      }
    }
    const c = nlp(text)
    for (const v of c.people().out('array') as string[]) place(clean(v), 'PERSON', 'compromise')
    for (const v of c.organizations().out('array') as string[])
      place(clean(v), 'ORGANIZATION', 'compromise')
    for (const v of c.places().out('array') as string[]) place(clean(v), 'PLACE', 'compromise')
    for (const e of doc.entities().out(its.detail) as unknown as {
      value: string
      type: string
    }[]) {
      place(e.value, e.type, 'wink-nlp')
    }
    return found.filter((e) => e.text.length > 0).sort((a, b) => a.start - b.start)
  }

  keywords(doc: ReturnType<typeof this.wink.readDoc>, max: number) {
    const its = this.wink.its
    const counts = new Map<string, { text: string; count: number; first: number }>()
    let phrase: string[] = []
    let i = 0
    const flush = () => {
      if (phrase.length > 0) {
        const key = phrase.join(' ')
        const prev = counts.get(key)
        if (prev) prev.count += 1
        else counts.set(key, { text: key, count: 1, first: i })
      }
      phrase = []
    }
    doc.tokens().each((t: ItemToken) => {
      i += 1
      const pos = t.out(its.pos) as string
      const stop = t.out(its.stopWordFlag) as boolean
      const type = t.out(its.type) as string
      if ((pos === 'NOUN' || pos === 'PROPN') && !stop && type === 'word') {
        phrase.push((t.out(its.normal) as string).toLowerCase())
      } else flush()
    })
    flush()
    const total = [...counts.values()].reduce((s, v) => s + v.count, 0) || 1
    return [...counts.values()]
      .map((v) => ({ ...v, score: v.count * (1 + 0.5 * (v.text.split(' ').length - 1)) }))
      .sort((a, b) => b.score - a.score || a.first - b.first)
      .slice(0, max)
      .map((v) => ({ text: v.text, count: v.count, score: round(v.score / total) }))
  }

  summary(doc: ReturnType<typeof this.wink.readDoc>, n: number) {
    const its = this.wink.its
    const sentences = doc.sentences().out() as string[]
    const importance = doc.out(its.sentenceWiseImportance) as unknown as {
      index: number
      importance: number
    }[]
    const picked = [...importance]
      .sort((a, b) => b.importance - a.importance || a.index - b.index)
      .slice(0, n)
      .sort((a, b) => a.index - b.index)
    return {
      method: 'extractive (wink-nlp sentence importance)',
      sentences: picked.map((p) => ({
        index: p.index,
        text: sentences[p.index] ?? '',
        score: round(p.importance),
      })),
      text: picked.map((p) => sentences[p.index] ?? '').join(' '),
    }
  }
}

const clean = (s: string) =>
  s
    .trim()
    .replace(/^[^\p{L}\p{N}$]+|[^\p{L}\p{N}.]+$/gu, '')
    .replace(/\.$/, '')
