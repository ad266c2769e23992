import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Model-heavy files share 2 cores: one file at a time keeps timings honest.
    fileParallelism: false,
  },
})
