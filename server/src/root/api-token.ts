import crypto from 'node:crypto';
import fs from 'node:fs';
import type { RootLayout } from './layout.js';
import { writeSecretFile } from './state-modes.js';

/**
 * The bearer token of the NAS HTTP API: made at init (and at start for older roots), kept in
 * .burrow/api-token (0600). Whoever can read it may drive the NAS, like the owner at the CLI.
 */
export function ensureApiToken(l: RootLayout): string {
  const existing = readApiToken(l);
  if (existing) return existing;
  const token = crypto.randomBytes(32).toString('base64url');
  writeSecretFile(l.apiToken, `${token}\n`);
  return token;
}

/** The token, or undefined when the file is missing or empty. */
export function readApiToken(l: RootLayout): string | undefined {
  try {
    const t = fs.readFileSync(l.apiToken, 'utf8').trim();
    return t.length > 0 ? t : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
