import fs from 'node:fs';
import crypto from 'node:crypto';

/** Bytes read from each end of a file for its partial hash. */
export const PARTIAL_BYTES = 64 * 1024;
/**
 * Read size for full hashes. 1 MiB measured best with node:crypto SHA-256: smaller reads pay
 * per-syscall overhead, larger ones fall out of the L2 cache before the hash sees them.
 */
const CHUNK = 1024 * 1024;

/**
 * One reusable read buffer per thread. Allocating a fresh 1 MiB buffer per file costs an
 * mmap/munmap pair and GC pressure, which at 200k small files dominated hashing.
 */
let scratch: Buffer | null = null;
function scratchBuffer(): Buffer {
  scratch ??= Buffer.allocUnsafe(CHUNK);
  return scratch;
}

const sizeBytes = (size: number): Buffer => {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(size));
  return b;
};

/**
 * Partial hash: SHA-256 over the size, the first 64 KiB and the last 64 KiB. Cheap for every
 * file (two reads) and enough to split same-size groups before dedupe reads whole files.
 */
export function partialHashFd(fd: number, size: number, buf: Buffer = scratchBuffer()): Buffer {
  const h = crypto.createHash('sha256');
  h.update(sizeBytes(size));
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
export function fullHashFd(fd: number, buf: Buffer = scratchBuffer()): Buffer {
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

/**
 * Both hashes of a file that fits the buffer, from a single read: the partial hash is computed
 * over the same bytes partialHashFd would read. Returns null if the file is not `size` bytes
 * long any more (it grew or shrank since fstat), so the caller can report the change.
 * `whole` says the read itself proved the file ended at `size` (it asked for one byte more and
 * got a short read), so the caller needs no second fstat for it.
 */
function bothHashesSmall(fd: number, size: number, buf: Buffer): { partial: Buffer; full: Buffer; whole: boolean } | null {
  const want = Math.min(buf.length, size + 1);
  let got = 0;
  let whole = false;
  while (got < want) {
    const n = fs.readSync(fd, buf, got, want - got, got);
    if (n === 0) {
      whole = true;
      break;
    }
    got += n;
    // A short read of a regular file is its end: one read call for a small file, not two.
    if (got < want) {
      whole = true;
      break;
    }
  }
  if (got !== size) return null;
  // One-shot crypto.hash skips a Hash object per digest, which shows at 200k small files;
  // the partial input (size, head, tail) is laid out contiguously to hash it in one call.
  const p = partialInput();
  p.writeBigUInt64BE(BigInt(size), 0);
  const headLen = Math.min(PARTIAL_BYTES, size);
  buf.copy(p, 8, 0, headLen);
  let len = 8 + headLen;
  if (size > PARTIAL_BYTES) {
    const tailStart = Math.max(PARTIAL_BYTES, size - PARTIAL_BYTES);
    buf.copy(p, len, tailStart, size);
    len += size - tailStart;
  }
  return { partial: crypto.hash('sha256', p.subarray(0, len), 'buffer'), full: crypto.hash('sha256', buf.subarray(0, size), 'buffer'), whole };
}

let partialScratch: Buffer | null = null;
function partialInput(): Buffer {
  partialScratch ??= Buffer.allocUnsafe(8 + 2 * PARTIAL_BYTES);
  return partialScratch;
}

export interface FileHashes {
  size: number;
  mtime_ms: number;
  partial: Buffer;
  full: Buffer | null;
}

const changedError = (file: string) => Object.assign(new Error(`${file} changed while it was being hashed`), { code: 'ECHANGED' });

/** Hash one file; returns the stat seen before hashing so the caller can detect a change during it. */
export function hashFile(file: string, wantFull: boolean): FileHashes {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const st = fs.fstatSync(fd);
    const buf = scratchBuffer();
    let partial: Buffer;
    let full: Buffer | null = null;
    let whole = false;
    if (wantFull && st.size <= buf.length) {
      const both = bothHashesSmall(fd, st.size, buf);
      if (!both) throw changedError(file);
      ({ partial, full, whole } = both);
    } else {
      partial = partialHashFd(fd, st.size, buf);
      if (wantFull) full = fullHashFd(fd, buf);
    }
    // Read in one call and proven to end at st.size: a second fstat would only catch a writer
    // that changed the bytes in place during that one read, and such a write moves the mtime,
    // which the index sees and which makes this hash (stored under the old mtime) stale.
    if (!whole) {
      const after = fs.fstatSync(fd);
      if (after.size !== st.size || after.mtimeMs !== st.mtimeMs) throw changedError(file);
    }
    return { size: st.size, mtime_ms: st.mtimeMs, partial, full };
  } finally {
    fs.closeSync(fd);
  }
}
