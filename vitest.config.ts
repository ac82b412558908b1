import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Boards are built and started in beforeAll hooks (Verilator, QEMU): minutes on a cold, busy machine.
    hookTimeout: 180_000,
    // The default report, then every skipped test with the reason it was skipped.
    reporters: ['default', './test/helpers/skip-reporter.ts'],
  },
});
