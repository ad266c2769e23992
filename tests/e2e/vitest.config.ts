import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    testTimeout: 240_000,
    hookTimeout: 240_000,
    fileParallelism: false,
    // expect.poll's 1 s default is shorter than a round trip through wrangler dev under load
    expect: { poll: { timeout: 15_000, interval: 100 } },
  },
})
