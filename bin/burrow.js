#!/usr/bin/env -S node --optimize-for-size
// --optimize-for-size: V8 collects garbage sooner instead of letting the heap grow. A NAS or an
// agent syncing 100,000 files peaked at 281/419 MiB (sender/receiver) without it and at
// 174/202 MiB with it, for about 25 % more CPU time in that sync (BENCHMARKS.md, issue 12).
// A Raspberry Pi has less memory than time. `./burrow` and the systemd units pass it too;
// `node bin/burrow.js` runs without it.
// The `burrow` command: runs the compiled CLI (npm ci builds it via the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = fileURLToPath(new URL('../dist/server/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error('Burrow is not built yet. Run "npm ci" (or "npm run build") in the Burrow folder first.');
  process.exit(2);
}
await import(main);
