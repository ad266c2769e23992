import { defineConfig } from 'vitest/config'

// PGlite's start (WASM + data directory) can take several seconds on a busy 2-core machine.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
})
