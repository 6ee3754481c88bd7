import { parentPort } from 'node:worker_threads';
import { hashFile } from './hash-file.js';

/** Worker thread: hashes files it is sent, one at a time, and answers with the hashes or the error. */
interface Job {
  id: number;
  path: string;
  full: boolean;
}

parentPort!.on('message', (job: Job) => {
  try {
    const r = hashFile(job.path, job.full);
    parentPort!.postMessage({ id: job.id, ok: true, size: r.size, mtime_ms: r.mtime_ms, partial: r.partial, full: r.full });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    parentPort!.postMessage({ id: job.id, ok: false, code: e.code ?? 'ERROR', message: e.message });
  }
});
