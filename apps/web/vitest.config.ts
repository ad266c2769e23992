import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 90_000,
    expect: { poll: { timeout: 5_000, interval: 50 } },
  },
})
