/**
 * A 16-bit mono PCM WAV file (RIFF header + samples), for tests and fixtures that need audio
 * without a recorder: samples in [-1, 1], clipped.
 */
export function pcm16Wav(samples: ArrayLike<number>, rate: number): Buffer {
  const data = Buffer.alloc(samples.length * 2)
  for (let i = 0; i < samples.length; i++) {
    const x = Math.max(-1, Math.min(1, samples[i] as number))
    data.writeInt16LE(Math.round(x * 32767), i * 2)
  }
  const head = Buffer.alloc(44)
  head.write('RIFF', 0)
  head.writeUInt32LE(36 + data.length, 4)
  head.write('WAVEfmt ', 8)
  head.writeUInt32LE(16, 16) // fmt chunk size
  head.writeUInt16LE(1, 20) // PCM
  head.writeUInt16LE(1, 22) // mono
  head.writeUInt32LE(rate, 24)
  head.writeUInt32LE(rate * 2, 28) // bytes per second
  head.writeUInt16LE(2, 32) // bytes per frame
  head.writeUInt16LE(16, 34) // bits per sample
  head.write('data', 36)
  head.writeUInt32LE(data.length, 40)
  return Buffer.concat([head, data])
}
