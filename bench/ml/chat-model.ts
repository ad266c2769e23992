// Which GGUF the chat phase measures, laid out in the chat server's MODEL_DIR the way a user
// would: the random-weight fixture by default (ML_NODE_TEST_CHAT_FIXTURE), or the file named by
// BENCH_CHAT_GGUF linked in as MODEL_DIR/chat/<id>.gguf, so the server finds it by its ordinary
// discovery. The in-process baseline opens the same file (`path`).
import { mkdirSync, statSync, symlinkSync } from 'node:fs'
import { basename, join } from 'node:path'
import { ensureFixtureGguf } from '../../apps/ml-node/src/chat/fixture-gguf.js'
import { checkGgufHeader } from '../../apps/ml-node/src/chat/gguf-header.js'
import { FIXTURE_ID } from '../../apps/ml-node/src/chat/service.js'
import { SettingsError } from './settings.js'

export interface ChatModel {
  /** The id the server serves it under, sent as `model`. */
  id: string
  /** The file itself, for the in-process baseline. */
  path: string
  fixture: boolean
  /** For the printed lines: what was measured. */
  label: string
  /** The chat server's variables on top of the common ones. */
  env: Record<string, string>
}

/** An id safe in a file name and on a BENCH line (no spaces). */
export function chatModelId(file: string) {
  const id = basename(file)
    .replace(/\.gguf$/i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
  return id || 'model'
}

/** Prepares `modelDir` (the chat server's MODEL_DIR) for `gguf`, or for the fixture when null. */
export async function prepareChatModel(modelDir: string, gguf: string | null): Promise<ChatModel> {
  if (gguf === null) {
    const path = ensureFixtureGguf(join(modelDir, 'fixture.gguf'))
    return {
      id: FIXTURE_ID,
      path,
      fixture: true,
      label: `${FIXTURE_ID} (random-weight fixture)`,
      env: { ML_NODE_TEST_CHAT_FIXTURE: path },
    }
  }
  let size: number
  try {
    const st = statSync(gguf)
    if (!st.isFile()) throw new Error('not a file')
    size = st.size
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not a file'
    throw new SettingsError(`BENCH_CHAT_GGUF (${gguf}): ${why}`)
  }
  try {
    await checkGgufHeader(gguf)
  } catch (err) {
    throw new SettingsError(`BENCH_CHAT_GGUF (${gguf}): ${(err as Error).message}`)
  }
  const id = chatModelId(gguf)
  mkdirSync(join(modelDir, 'chat'), { recursive: true })
  // A link, not a copy: real weights are gigabytes. The server loads through it.
  symlinkSync(gguf, join(modelDir, 'chat', `${id}.gguf`))
  return {
    id,
    path: gguf,
    fixture: false,
    label: `${id} (${basename(gguf)}, ${(size / 2 ** 30).toFixed(2)} GiB)`,
    env: {},
  }
}
