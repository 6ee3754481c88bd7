import fs from 'node:fs';
import path from 'node:path';
import { anchoredAt } from '../anchored-fs/index.js';

/**
 * Write a file so readers (and the sync engine) only ever see the old or the new content:
 * temp file in the same folder, fsync, rename. Returns false without writing when the
 * content is already identical, so unchanged catalogue parts cost no sync traffic.
 * For NAS state files (.burrow/, keys) whose folder Burrow alone writes; the steps themselves
 * run in anchored-fs (the folder is held open, the last name never followed). Anything under
 * files/, devices/ or shared/ must use anchoredAt(root) with a path from the root instead.
 */
export function writeFileAtomic(file: string, data: string | Buffer, opts: { skipIfSame?: boolean; mode?: number } = {}): boolean {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  return anchoredAt(dir).writeFileAtomic(path.basename(file), data, { ...opts, mkdirs: false });
}
