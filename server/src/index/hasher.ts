import path from 'node:path';
import type { Store } from '../store/index.js';
import type { HashJob, HashResult } from '../store/contents-repo.js';
import { HashPool } from './hash-pool.js';

export interface HashProgress {
  files: number;
  bytes: number;
  failed: number;
  elapsedMs: number;
}

export interface HashOptions {
  workers: number;
  /** Most files queued at once (the bounded queue). */
  queue: number;
  onProgress?: (p: HashProgress) => void;
  signal?: AbortSignal;
  pool?: HashPool;
}

/** A batch closes at this many files or bytes, whichever comes first. */
const BATCH_FILES = 128;
const BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Hash every files/ inode whose hash is missing or stale. Reads the work list from the index in
 * pages (a cursor on entry id), so memory stays bounded; an inode with several paths is hashed once.
 * Files go to the workers in batches (one message per up to 128 files or 16 MiB) with three
 * batches in flight per worker, so small files cost a read and a hash, not a thread round trip.
 */
export async function hashPending(store: Store, filesDir: string, opts: HashOptions): Promise<HashProgress> {
  const pool = opts.pool ?? new HashPool(opts.workers);
  const progress: HashProgress = { files: 0, bytes: 0, failed: 0, elapsedMs: 0 };
  const t0 = performance.now();
  const inflightMax = Math.max(3, pool.size * 3);
  const filesPrefix = filesDir.endsWith(path.sep) ? filesDir : filesDir + path.sep;
  let cursor = 0;
  const doneInodes = new Set<string>();
  let results: HashResult[] = [];
  const flush = () => {
    if (results.length === 0) return;
    const batch = results;
    results = [];
    store.tx(() => {
      for (const r of batch) store.contents.put(r);
    });
  };
  const running = new Set<Promise<void>>();
  const dispatch = (jobs: HashJob[]) => {
    const p: Promise<void> = pool
      .hashMany(
        jobs.map((j) => filesPrefix + j.path),
        true,
      )
      .then((items) => {
        for (let i = 0; i < items.length; i++) {
          const it = items[i]!;
          const job = jobs[i]!;
          if (!it.ok) {
            progress.failed++;
            continue;
          }
          // Only record the hash if the file is still what the index describes.
          if (it.size === job.size && it.mtime_ms === job.mtime_ms) {
            results.push({ dev: job.dev, ino: job.ino, size: it.size, mtime_ms: it.mtime_ms, partial: it.partial, full: it.full });
            progress.files++;
            progress.bytes += it.size;
          }
        }
        if (results.length >= 4000) flush();
        opts.onProgress?.({ ...progress, elapsedMs: performance.now() - t0 });
      })
      .catch(() => {
        progress.failed += jobs.length;
      })
      .finally(() => running.delete(p));
    running.add(p);
  };
  try {
    for (;;) {
      if (opts.signal?.aborted) break;
      const page = store.contents.pendingFull(cursor, opts.queue);
      if (page.length === 0) break;
      cursor = page[page.length - 1]!.id;
      let batch: HashJob[] = [];
      let batchBytes = 0;
      for (const job of page) {
        if (opts.signal?.aborted) break;
        // Only a hard-linked inode can come round twice; remembering just those keeps the set
        // small (a set of every inode was 20 MB of the NAS's peak RSS at 200k files).
        if (job.nlink > 1) {
          const key = `${job.dev}:${job.ino}`;
          if (doneInodes.has(key)) continue;
          doneInodes.add(key);
        }
        batch.push(job);
        batchBytes += job.size;
        if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) {
          dispatch(batch);
          batch = [];
          batchBytes = 0;
          while (running.size >= inflightMax) await Promise.race(running);
        }
      }
      if (batch.length > 0 && !opts.signal?.aborted) dispatch(batch);
      while (running.size >= inflightMax) await Promise.race(running);
      // No barrier between pages: the cursor is already past every job in flight, so the next
      // page cannot repeat one, and the workers never wait for the slowest file of a page.
      if (doneInodes.size > 1_000_000) doneInodes.clear();
    }
  } finally {
    await Promise.all(running);
    flush();
    if (!opts.pool) await pool.close();
  }
  progress.elapsedMs = performance.now() - t0;
  opts.onProgress?.(progress);
  return progress;
}
