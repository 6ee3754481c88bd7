import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

/**
 * Write a file so readers (and the sync engine) only ever see the old or the new content:
 * temp file in the same folder, fsync, rename. Returns false without writing when the
 * content is already identical, so unchanged catalogue parts cost no sync traffic.
 */
export function writeFileAtomic(file: string, data: string | Buffer, opts: { skipIfSame?: boolean; mode?: number } = {}): boolean {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  if (opts.skipIfSame) {
    try {
      const old = fs.readFileSync(file);
      if (old.equals(buf)) return false;
    } catch {
      /* missing: write it */
    }
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'w', opts.mode ?? 0o644);
  try {
    fs.writeSync(fd, buf);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  return true;
}
