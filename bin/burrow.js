#!/usr/bin/env node
// The `burrow` command: runs the compiled CLI (npm ci builds it via the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = fileURLToPath(new URL('../dist/server/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error('Burrow is not built yet. Run "npm ci" (or "npm run build") in the Burrow folder first.');
  process.exit(2);
}
await import(main);
