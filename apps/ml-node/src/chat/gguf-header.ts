import { open } from 'node:fs/promises'

/** Smallest possible size of one key-value entry and one tensor description in a GGUF header. */
const MIN_KV_BYTES = 8 + 1 + 4 + 1
const MIN_TENSOR_BYTES = 8 + 1 + 4 + 8 + 4 + 8

/**
 * Checks a GGUF file's fixed header before node-llama-cpp reads it: its metadata parser spins
 * for ever on a file with the right magic and a garbage version or counts (seen with 3.21.1),
 * which would leave the model `loading` for good. Throws a short reason.
 */
export async function checkGgufHeader(path: string) {
  const fh = await open(path, 'r')
  try {
    const { size } = await fh.stat()
    const head = Buffer.alloc(24)
    const { bytesRead } = await fh.read(head, 0, 24, 0)
    if (bytesRead < 24) throw new Error(`not a GGUF file: only ${size} bytes`)
    if (head.toString('latin1', 0, 4) !== 'GGUF') throw new Error('not a GGUF file (bad magic)')
    const version = head.readUInt32LE(4)
    if (version !== 2 && version !== 3) {
      throw new Error(`not a readable GGUF file: header version ${version} (2 or 3 expected)`)
    }
    const tensors = head.readBigUInt64LE(8)
    const kvs = head.readBigUInt64LE(16)
    if (kvs * BigInt(MIN_KV_BYTES) + tensors * BigInt(MIN_TENSOR_BYTES) > BigInt(size)) {
      throw new Error(
        `corrupt GGUF file: its header lists ${tensors} tensors and ${kvs} keys, more than ${size} bytes can hold`,
      )
    }
  } finally {
    await fh.close()
  }
}
