import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Several tests wait for scaled-clock deliveries with their own budgets of up to 15 s;
    // the 5 s default would cut those short on a loaded machine.
    testTimeout: 30_000,
  },
})
