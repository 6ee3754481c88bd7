import { Worker } from 'node:worker_threads';
import { workerScript } from '../util/worker-script.js';

export interface PoolResult {
  size: number;
  mtime_ms: number;
  partial: Buffer;
  full: Buffer | null;
}

interface Pending {
  resolve: (r: PoolResult) => void;
  reject: (e: Error) => void;
}

/** A fixed set of hashing worker threads; each keeps a small queue so no worker idles between files. */
export class HashPool {
  private readonly workers: Worker[] = [];
  private readonly inflight: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(size: number) {
    const script = workerScript('./hash-worker.js', import.meta.url);
    for (let i = 0; i < size; i++) {
      const w = new Worker(script);
      w.on('message', (m: { id: number; ok: boolean; size: number; mtime_ms: number; partial: Uint8Array; full: Uint8Array | null; code: string; message: string }) => {
        this.inflight[i]!--;
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve({ size: m.size, mtime_ms: m.mtime_ms, partial: Buffer.from(m.partial), full: m.full ? Buffer.from(m.full) : null });
        else p.reject(Object.assign(new Error(m.message), { code: m.code }));
      });
      w.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      this.workers.push(w);
      this.inflight.push(0);
    }
  }

  hash(path: string, full: boolean): Promise<PoolResult> {
    let best = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.inflight[i]! < this.inflight[best]!) best = i;
    const id = this.nextId++;
    this.inflight[best]!++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[best]!.postMessage({ id, path, full });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
