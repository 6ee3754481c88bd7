import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
let cached: string | undefined;

/** The Burrow installation folder (where package.json is), found from src/ (vitest) and dist/ (node). */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = here;
  for (let i = 0; i < 8; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'migrations'))) return (cached = dir);
    dir = path.dirname(dir);
  }
  throw new Error('Cannot find the Burrow installation folder (package.json + migrations/) above ' + here);
}

export function repoPath(...segments: string[]): string {
  return path.join(repoRoot(), ...segments);
}
