#!/usr/bin/env -S node --optimize-for-size
// --optimize-for-size: V8 collects garbage sooner instead of letting the heap grow. A NAS or an
// agent syncing 100,000 small files peaked at 291/385 MiB (sender/receiver) without it and at
// 171/186 MiB with it; it costs about a quarter more time where blocks are hashed and encrypted
// (2.2 GB of mixed files: 84 s without, 109 s with; BENCHMARKS.md, issue 12).
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
