import fs from 'node:fs';
import crypto from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/**
 * Worker thread: SHA-1 of a run of pieces over the concatenated files, read sequentially in
 * large blocks (the pieces of one worker are contiguous, so each file is read front to back).
 * A file that ends early, or grows, means it changed while being hashed.
 */
export interface PieceJob {
  files: Array<{ abs: string; size: number }>;
  pieceLength: number;
  firstPiece: number;
  /** Exclusive. */
  endPiece: number;
  totalBytes: number;
}

const BLOCK = 8 * 1024 * 1024;

function hashRun(job: PieceJob): Uint8Array {
  const { files, pieceLength } = job;
  const start = job.firstPiece * pieceLength;
  const end = Math.min(job.totalBytes, job.endPiece * pieceLength);
  const out = new Uint8Array((job.endPiece - job.firstPiece) * 20);
  const perBlock = Math.max(1, Math.floor(BLOCK / pieceLength));
  const buf = Buffer.allocUnsafe(perBlock * pieceLength);
  // Find the file holding byte `start`.
  let fi = 0;
  let fileStart = 0;
  while (fi < files.length && fileStart + files[fi]!.size <= start) fileStart += files[fi++]!.size;
  let fileOff = start - fileStart;
  let fd = -1;
  let pos = start;
  let piece = 0;
  try {
    while (pos < end) {
      const want = Math.min(buf.length, end - pos);
      let filled = 0;
      while (filled < want) {
        const f = files[fi];
        if (!f) throw new Error('the files are shorter than when they were listed');
        if (fileOff >= f.size) {
          if (fd >= 0) fs.closeSync(fd);
          fd = -1;
          fi++;
          fileOff = 0;
          continue;
        }
        if (fd < 0) fd = fs.openSync(f.abs, 'r');
        const n = fs.readSync(fd, buf, filled, Math.min(want - filled, f.size - fileOff), fileOff);
        if (n === 0) throw new Error(`${f.abs} became shorter while it was hashed`);
        filled += n;
        fileOff += n;
      }
      for (let o = 0; o < filled; o += pieceLength) {
        const h = crypto.createHash('sha1').update(buf.subarray(o, Math.min(filled, o + pieceLength))).digest();
        out.set(h, piece * 20);
        piece++;
      }
      pos += filled;
    }
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
  return out;
}

parentPort?.on('message', (msg: { id: number; job: PieceJob }) => {
  try {
    const hashes = hashRun(msg.job);
    parentPort!.postMessage({ id: msg.id, hashes }, [hashes.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: String((err as Error).message ?? err) });
  }
});
