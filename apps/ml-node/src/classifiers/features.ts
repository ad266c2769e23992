/** Hashed word unigram and bigram counts: sublinear tf, L2-normalised, FNV-1a buckets. */
export function hashedNgrams(text: string, buckets: number): Float32Array {
  const v = new Float32Array(buckets)
  const words = text.toLowerCase().match(/[\p{L}\p{N}$!%]+/gu) ?? []
  const add = (s: string) => {
    let h = 0x811c9dc5
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i)
      h = Math.imul(h, 0x01000193)
    }
    const idx = (h >>> 0) % buckets
    v[idx] = (v[idx] as number) + 1
  }
  for (let i = 0; i < words.length; i++) {
    add(words[i] as string)
    if (i > 0) add(`${words[i - 1]} ${words[i]}`)
  }
  let norm = 0
  for (let i = 0; i < buckets; i++) {
    const x = v[i] as number
    if (x > 0) {
      const s = 1 + Math.log(x)
      v[i] = s
      norm += s * s
    }
  }
  norm = Math.sqrt(norm) || 1
  for (let i = 0; i < buckets; i++) v[i] = (v[i] as number) / norm
  return v
}
