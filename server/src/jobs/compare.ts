import fs from 'node:fs';

export interface ExpectedFile {
  dev: number;
  ino: number;
  size: number;
  mtime_ms: number;
}

const CHUNK = 1024 * 1024;
const bufA = Buffer.allocUnsafe(CHUNK);
const bufB = Buffer.allocUnsafe(CHUNK);

function changed(file: string): Error {
  return Object.assign(new Error(`${file} changed while it was being compared`), { code: 'ECHANGED' });
}

function openExpected(file: string, want: ExpectedFile): number {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  const st = fs.fstatSync(fd);
  if (st.ino !== want.ino || st.dev !== want.dev || st.size !== want.size || st.mtimeMs !== want.mtime_ms) {
    fs.closeSync(fd);
    throw changed(file);
  }
  return fd;
}

function stillSame(fd: number, file: string, want: ExpectedFile): void {
  const st = fs.fstatSync(fd);
  if (st.size !== want.size || st.mtimeMs !== want.mtime_ms) throw changed(file);
}

/**
 * Byte-for-byte equality of two files that must still be the inodes we hashed (checked on the
 * open descriptors before and after, so a swap or a write during the compare is caught).
 * Throws an error with code ECHANGED when either changed.
 */
export function sameBytes(a: string, wantA: ExpectedFile, b: string, wantB: ExpectedFile): boolean {
  const fa = openExpected(a, wantA);
  let fb: number;
  try {
    fb = openExpected(b, wantB);
  } catch (err) {
    fs.closeSync(fa);
    throw err;
  }
  try {
    let pos = 0;
    for (;;) {
      const na = fs.readSync(fa, bufA, 0, CHUNK, pos);
      const nb = fs.readSync(fb, bufB, 0, CHUNK, pos);
      if (na !== nb) return false;
      if (na === 0) break;
      if (bufA.compare(bufB, 0, nb, 0, na) !== 0) return false;
      pos += na;
    }
    stillSame(fa, a, wantA);
    stillSame(fb, b, wantB);
    return true;
  } finally {
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}
