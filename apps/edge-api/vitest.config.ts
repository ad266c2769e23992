import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// Two projects: `workers` runs the app inside workerd (the real runtime) against the emulators
// started by test/global-setup.ts; `node` runs checks that need Node-only tools (the OpenAPI
// validator compiles schemas with `new Function`, which workerd forbids).
export default defineConfig({
  test: {
    // At the root, not in the workers project: that project's Vite config resolves modules for
    // workerd, which breaks Node-only packages (ioredis) the emulators load.
    globalSetup: ['./test/global-setup.ts'],
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: '../../wrangler.toml' },
            miniflare: {
              bindings: {
                ...inject('stackEnv'),
                ENVIRONMENT: 'test',
                LOG_LEVEL: 'warn',
                JOBS_WORKER_URL: '',
                // Fewer PBKDF2 rounds keep sign-ups fast here; src/auth/password.test.ts runs
                // the production count (100,000) too.
                PASSWORD_PBKDF2_ITERATIONS: '10000',
                CORS_ORIGINS: 'http://localhost:3050',
                USAGE_FLUSH_MS: '10',
                // PGlite and the Redis emulator share the vitest process: under load a Redis
                // answer can take over 1 s, and a fail-open request would break exact counts.
                RATE_LIMIT_TIMEOUT_MS: '10000',
              },
            },
          })),
        ],
        test: {
          name: 'workers',
          include: ['src/**/*.test.ts'],
          exclude: ['src/**/*.node.test.ts'],
          hookTimeout: 60_000,
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'node',
          include: ['src/**/*.node.test.ts'],
          environment: 'node',
        },
      },
    ],
  },
})
