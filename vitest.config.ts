import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests spawn real processes and Chromium; two files at a time fit these 2-core machines.
    maxWorkers: 2,
    setupFiles: ['test/setup.ts'],
    reporters: ['default'],
  },
});
