const tokenize = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []

/** Okapi BM25 of one query against a small document set (statistics from that set). */
export function bm25Scores(query: string, docs: string[], k1 = 1.2, b = 0.75): number[] {
  const toks = docs.map(tokenize)
  const avg = toks.reduce((s, t) => s + t.length, 0) / Math.max(1, toks.length) || 1
  const df = new Map<string, number>()
  for (const t of toks) for (const w of new Set(t)) df.set(w, (df.get(w) ?? 0) + 1)
  const q = [...new Set(tokenize(query))]
  const n = docs.length
  return toks.map((t) => {
    const tf = new Map<string, number>()
    for (const w of t) tf.set(w, (tf.get(w) ?? 0) + 1)
    let score = 0
    for (const w of q) {
      const f = tf.get(w) ?? 0
      if (f === 0) continue
      const d = df.get(w) ?? 0
      const idf = Math.log(1 + (n - d + 0.5) / (d + 0.5))
      score += (idf * (f * (k1 + 1))) / (f + k1 * (1 - b + (b * t.length) / avg))
    }
    return score
  })
}
