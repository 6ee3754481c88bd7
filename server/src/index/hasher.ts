import path from 'node:path';
import type { Store } from '../store/index.js';
import type { HashResult } from '../store/contents-repo.js';
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

/**
 * Hash every files/ inode whose hash is missing or stale. Reads the work list from the index in
 * pages (a cursor on entry id), so memory stays bounded; an inode with several paths is hashed once.
 */
export async function hashPending(store: Store, filesDir: string, opts: HashOptions): Promise<HashProgress> {
  const pool = opts.pool ?? new HashPool(opts.workers);
  const progress: HashProgress = { files: 0, bytes: 0, failed: 0, elapsedMs: 0 };
  const t0 = performance.now();
  const inflightMax = Math.max(2, opts.workers * 4);
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
  try {
    for (;;) {
      if (opts.signal?.aborted) break;
      const page = store.contents.pendingFull(cursor, opts.queue);
      if (page.length === 0) break;
      cursor = page[page.length - 1]!.id;
      const running = new Set<Promise<void>>();
      for (const job of page) {
        if (opts.signal?.aborted) break;
        const key = `${job.dev}:${job.ino}`;
        if (doneInodes.has(key)) continue;
        doneInodes.add(key);
        const p: Promise<void> = pool
          .hash(path.join(filesDir, job.path), true)
          .then((r) => {
            // Only record the hash if the file is still what the index describes.
            if (r.size === job.size && r.mtime_ms === job.mtime_ms) {
              results.push({ dev: job.dev, ino: job.ino, size: r.size, mtime_ms: r.mtime_ms, partial: r.partial, full: r.full });
              progress.files++;
              progress.bytes += r.size;
            }
            if (results.length >= 500) flush();
          })
          .catch(() => {
            progress.failed++;
          })
          .finally(() => running.delete(p));
        running.add(p);
        if (running.size >= inflightMax) await Promise.race(running);
        if (opts.onProgress && progress.files % 256 === 0) opts.onProgress({ ...progress, elapsedMs: performance.now() - t0 });
      }
      await Promise.all(running);
      flush();
      if (doneInodes.size > 1_000_000) doneInodes.clear();
    }
  } finally {
    flush();
    if (!opts.pool) await pool.close();
  }
  progress.elapsedMs = performance.now() - t0;
  opts.onProgress?.(progress);
  return progress;
}
