import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Hooks start boards; the first rtl board start also builds its Verilator model.
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
