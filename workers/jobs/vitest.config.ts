import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// Two projects: `worker` runs src/**/*.test.ts inside workerd (the real Workers runtime, via
// @cloudflare/vitest-pool-workers and wrangler.toml); `e2e` runs test/**/*.test.ts in Node against
// `wrangler dev` and the QStash emulator.
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            main: './src/index.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: { ENVIRONMENT: 'test', JOBS_MAX_BODY_BYTES: '4096' },
            },
          }),
        ],
        test: { name: 'worker', include: ['src/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
})
