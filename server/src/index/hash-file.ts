import fs from 'node:fs';
import crypto from 'node:crypto';

/** Bytes read from each end of a file for its partial hash. */
export const PARTIAL_BYTES = 64 * 1024;
const CHUNK = 1024 * 1024;

/**
 * Partial hash: SHA-256 over the size, the first 64 KiB and the last 64 KiB. Cheap for every
 * file (two reads) and enough to split same-size groups before dedupe reads whole files.
 */
export function partialHashFd(fd: number, size: number, buf: Buffer = Buffer.allocUnsafe(PARTIAL_BYTES)): Buffer {
  const h = crypto.createHash('sha256');
  const sizeBuf = Buffer.alloc(8);
  sizeBuf.writeBigUInt64BE(BigInt(size));
  h.update(sizeBuf);
  const head = fs.readSync(fd, buf, 0, Math.min(PARTIAL_BYTES, size), 0);
  h.update(buf.subarray(0, head));
  if (size > PARTIAL_BYTES) {
    const tailStart = Math.max(PARTIAL_BYTES, size - PARTIAL_BYTES);
    const tail = fs.readSync(fd, buf, 0, size - tailStart, tailStart);
    h.update(buf.subarray(0, tail));
  }
  return h.digest();
}

/** SHA-256 of the whole file (node:crypto uses the CPU's SHA extensions where present). */
export function fullHashFd(fd: number, buf: Buffer = Buffer.allocUnsafe(CHUNK)): Buffer {
  const h = crypto.createHash('sha256');
  let pos = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
  }
  return h.digest();
}

export interface FileHashes {
  size: number;
  mtime_ms: number;
  partial: Buffer;
  full: Buffer | null;
}

/** Hash one file; returns the stat seen before hashing so the caller can detect a change during it. */
export function hashFile(file: string, wantFull: boolean): FileHashes {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const st = fs.fstatSync(fd);
    const partial = partialHashFd(fd, st.size);
    const full = wantFull ? fullHashFd(fd) : null;
    const after = fs.fstatSync(fd);
    if (after.size !== st.size || after.mtimeMs !== st.mtimeMs) throw Object.assign(new Error(`${file} changed while it was being hashed`), { code: 'ECHANGED' });
    return { size: st.size, mtime_ms: st.mtimeMs, partial, full };
  } finally {
    fs.closeSync(fd);
  }
}
