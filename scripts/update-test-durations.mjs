#!/usr/bin/env node
// Writes test/file-durations.json (the order test/long-first-sequencer.ts runs files in) from the
// last `npm test`'s test-artifacts/vitest-results.json: seconds per file, longest first.
import fs from 'node:fs';
import path from 'node:path';

const results = JSON.parse(fs.readFileSync(path.resolve('test-artifacts/vitest-results.json'), 'utf8'));
const rows = results.testResults
  .map((t) => [path.relative(process.cwd(), t.name).split(path.sep).join('/'), Math.round((t.endTime - t.startTime) / 100) / 10])
  .sort((a, b) => b[1] - a[1]);
fs.writeFileSync('test/file-durations.json', JSON.stringify(Object.fromEntries(rows), null, 1) + '\n');
console.log(`test/file-durations.json: ${rows.length} files, ${rows.reduce((n, r) => n + r[1], 0).toFixed(0)} s in all`);
