import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // PGlite (the embedded Neon backend) takes several seconds to start on 2 cores.
    hookTimeout: 90_000,
    testTimeout: 30_000,
  },
})
