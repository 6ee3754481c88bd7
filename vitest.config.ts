import { defineConfig } from 'vitest/config';
import LongFirstSequencer from './test/long-first-sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll gives up after 1 s by default: a page that polls its agent every 500 ms, on a
    // 2-core machine running two browsers and NAS processes, can take longer than that to show a
    // state it does reach. What never happens still fails, after 10 s.
    expect: { poll: { timeout: 10_000 } },
    // Tests spawn real processes and Chromium, and spend much of their time waiting on them: three
    // files at a time keep 2 cores busy (two left ~30% idle; four starved tests that measure latency).
    maxWorkers: 3,
    // One process per worker for all its files instead of a fresh one per file: importing fastify,
    // playwright-core, better-sqlite3 and the NAS again for each of 100 files cost ~65 s of CPU
    // (vitest's "import" time; 17 s without). The tests share no state through modules: each makes
    // its own temp root, ports and processes, and test/setup.ts only sets the same env every time.
    isolate: false,
    setupFiles: ['test/setup.ts'],
    sequence: { sequencer: LongFirstSequencer },
    reporters: ['default'],
  },
});
