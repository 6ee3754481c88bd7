import fs from 'node:fs';
import path from 'node:path';
import type { RootLayout } from './layout.js';

/**
 * .burrow/ holds every secret (the database with the sync secrets, the API token, the password
 * hash, the TLS key), so only the owner may read it: the folder and its subfolders 0700, its
 * files 0600. Run at init and at every start, which also fixes roots made by older versions.
 * The trash is left alone below its top: it holds the user's own files with their own modes.
 */
export function secureStateModes(l: RootLayout): void {
  secureTree(l.state, l.trash);
}

function secureTree(dir: string, trash: string): void {
  chmodIf(dir, 0o700);
  if (dir === trash) return;
  for (const name of fs.readdirSync(dir)) {
    const abs = path.join(dir, name);
    const st = fs.lstatSync(abs); // never follow a link out of .burrow/
    if (st.isDirectory()) secureTree(abs, trash);
    else if (st.isFile()) chmodIf(abs, 0o600);
  }
}

function chmodIf(abs: string, mode: number): void {
  if ((fs.statSync(abs).mode & 0o777) !== mode) fs.chmodSync(abs, mode);
}

/** Write a secret file atomically with mode 0600 from its first byte. */
export function writeSecretFile(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}
