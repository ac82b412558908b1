import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // beforeAll hooks start virtual boards, which build their firmware or Verilator model on first use
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
