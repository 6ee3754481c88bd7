import { parentPort } from 'node:worker_threads';
import { hashFile } from './hash-file.js';

/**
 * Worker thread: hashes the files it is sent and answers with the hashes or the error.
 * A message is one file ({id, path, full}) or a batch ({id, paths, full}); a batch answers with
 * packed arrays, because a message round trip per small file cost more than hashing it.
 */
interface Job {
  id: number;
  path?: string;
  paths?: string[];
  full: boolean;
}

parentPort!.on('message', (job: Job) => {
  if (job.paths) {
    const n = job.paths.length;
    const sizes = new Float64Array(n);
    const mtimes = new Float64Array(n);
    const digests = new Uint8Array(n * 64); // partial (32 bytes) then full (32 bytes, zero if not wanted)
    const errors: Array<string | null> = new Array<string | null>(n).fill(null);
    for (let i = 0; i < n; i++) {
      try {
        const r = hashFile(job.paths[i]!, job.full);
        sizes[i] = r.size;
        mtimes[i] = r.mtime_ms;
        digests.set(r.partial, i * 64);
        if (r.full) digests.set(r.full, i * 64 + 32);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        errors[i] = `${e.code ?? 'ERROR'}: ${e.message}`;
      }
    }
    parentPort!.postMessage({ id: job.id, batch: true, sizes, mtimes, digests, errors }, [sizes.buffer, mtimes.buffer, digests.buffer]);
    return;
  }
  try {
    const r = hashFile(job.path!, job.full);
    parentPort!.postMessage({ id: job.id, ok: true, size: r.size, mtime_ms: r.mtime_ms, partial: r.partial, full: r.full });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    parentPort!.postMessage({ id: job.id, ok: false, code: e.code ?? 'ERROR', message: e.message });
  }
});
