import { existsSync, readdirSync, statSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import type { Config } from '../config.js'

/** The test-only GGUF fixture's id (ML_NODE_TEST_CHAT_FIXTURE). */
export const FIXTURE_ID = 'fixture-tiny-random'

/** One GGUF chat model: a file in MODEL_DIR/chat, a registry.json entry, or the test fixture. */
export interface GgufModelInfo {
  id: string
  path: string
  /** Shown in `/v1/models`: `MODEL_DIR/chat/<file>` or `MODEL_DIR/<entry path>`. */
  source: string
  fixture: boolean
  /** From a registry.json entry; otherwise the card says to read the weights' own model card. */
  license?: string
  /** From a registry.json entry; otherwise read from the GGUF metadata at load. */
  family?: string
}

/**
 * `MODEL_DIR/chat/*.gguf` (the id is the file name), except files a registry.json entry claims
 * (`skipPaths`, absolute), plus the fixture when ML_NODE_TEST_CHAT_FIXTURE points at it.
 */
export function discoverGgufModels(config: Config, skipPaths: string[] = []): GgufModelInfo[] {
  const found: GgufModelInfo[] = []
  const skip = new Set(skipPaths.map((p) => resolve(p)))
  const dir = join(config.MODEL_DIR, 'chat')
  if (existsSync(dir) && statSync(dir).isDirectory()) {
    for (const f of readdirSync(dir)
      .filter((f) => f.endsWith('.gguf'))
      .sort()) {
      const path = join(dir, f)
      if (skip.has(resolve(path))) continue
      found.push({ id: basename(f, '.gguf'), path, source: `MODEL_DIR/chat/${f}`, fixture: false })
    }
  }
  if (config.ML_NODE_TEST_CHAT_FIXTURE) {
    found.push({
      id: FIXTURE_ID,
      path: config.ML_NODE_TEST_CHAT_FIXTURE,
      source: 'built by scripts/make-fixture-gguf.ts',
      fixture: true,
    })
  }
  return found
}
