import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ensureFixtureGguf } from './fixture-gguf.js'
import { checkGgufHeader } from './gguf-header.js'

describe('checkGgufHeader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlnode-gguf-'))
  const file = (name: string, bytes: Buffer) => {
    writeFileSync(join(dir, name), bytes)
    return join(dir, name)
  }

  it('passes a real GGUF and refuses the headers that would hang the parser', async () => {
    const good = ensureFixtureGguf(join(dir, 'fixture.gguf'))
    await expect(checkGgufHeader(good)).resolves.toBeUndefined()
    await expect(
      checkGgufHeader(file('text.gguf', Buffer.from('GGUF this is not a model at all'))),
    ).rejects.toThrow(/header version/)
    const counts = Buffer.from(readFileSync(good).subarray(0, 64))
    counts.writeBigUInt64LE(1n << 40n, 16)
    await expect(checkGgufHeader(file('counts.gguf', counts))).rejects.toThrow(/corrupt GGUF/)
    await expect(checkGgufHeader(file('magic.gguf', Buffer.alloc(64, 7)))).rejects.toThrow(
      /bad magic/,
    )
    await expect(checkGgufHeader(file('short.gguf', Buffer.from('GGUF')))).rejects.toThrow(
      /only 4 bytes/,
    )
  })
})
