import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerScript } from '../util/worker-script.js';
import { BurrowError } from '../errors.js';
import type { PieceJob } from './hash-worker.js';

/**
 * SHA-1 of every piece, split into one contiguous run per worker thread, so hashing uses every
 * core and never blocks the NAS's event loop. One thread more than cores: each worker also
 * copies its bytes out of the page cache, and mktorrent likewise runs one hashing thread per
 * core plus a reader (on a busy machine the scheduler shares the CPU out per thread).
 */
export async function hashPieces(files: Array<{ abs: string; size: number }>, pieceLength: number, totalBytes: number, workers = os.availableParallelism() + 1): Promise<Buffer> {
  const pieces = Math.ceil(totalBytes / pieceLength);
  // Below ~32 pieces a second thread costs more than it saves.
  const n = Math.max(1, Math.min(workers, Math.ceil(pieces / 32)));
  const per = Math.ceil(pieces / n);
  const runs: PieceJob[] = [];
  for (let first = 0; first < pieces; first += per) runs.push({ files, pieceLength, firstPiece: first, endPiece: Math.min(pieces, first + per), totalBytes });
  const script = workerScript('./hash-worker.js', import.meta.url);
  const parts = await Promise.all(
    runs.map(
      (job) =>
        new Promise<Uint8Array>((resolve, reject) => {
          const w = new Worker(script);
          w.once('message', (m: { hashes?: Uint8Array; error?: string }) => {
            void w.terminate();
            if (m.hashes) resolve(m.hashes);
            else reject(new BurrowError('SOURCE_CHANGED', `Could not hash the torrent's pieces: ${m.error}.`, 'Try again when nothing writes to the files.'));
          });
          w.once('error', reject);
          w.postMessage({ id: 0, job });
        }),
    ),
  );
  return Buffer.concat(parts);
}
