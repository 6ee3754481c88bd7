import { Worker } from 'node:worker_threads';
import { workerScript } from '../util/worker-script.js';

export interface PoolResult {
  size: number;
  mtime_ms: number;
  partial: Buffer;
  full: Buffer | null;
}

/** One file's outcome in a batch: its hashes, or why it could not be hashed. */
export type BatchItem = ({ ok: true } & PoolResult) | { ok: false; error: string };

interface Pending {
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
  worker: number;
}

interface WorkerMessage {
  id: number;
  batch?: boolean;
  ok?: boolean;
  size?: number;
  mtime_ms?: number;
  partial?: Uint8Array;
  full?: Uint8Array | null;
  code?: string;
  message?: string;
  sizes?: Float64Array;
  mtimes?: Float64Array;
  digests?: Uint8Array;
  errors?: Array<string | null>;
}

/**
 * A fixed set of hashing worker threads; each keeps a small queue so no worker idles between
 * files. `hashMany` sends a whole batch per message: with small files the message round trip,
 * not SHA-256, was the cost.
 */
export class HashPool {
  private readonly workers: Worker[] = [];
  private readonly inflight: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(size: number) {
    const script = workerScript('./hash-worker.js', import.meta.url);
    for (let i = 0; i < size; i++) {
      // A small young generation: a hashing worker's garbage is per-file buffers and digests,
      // and V8's default semi-spaces made each worker ~20 MB of the NAS's peak RSS.
      const w = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      w.on('message', (m: WorkerMessage) => this.onMessage(m));
      w.on('error', (err) => {
        for (const [id, p] of this.pending) {
          if (p.worker !== i) continue;
          this.pending.delete(id);
          p.reject(err);
        }
        this.inflight[i] = 0;
      });
      this.workers.push(w);
      this.inflight.push(0);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  private onMessage(m: WorkerMessage): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    this.inflight[p.worker]!--;
    if (m.batch) {
      const out: BatchItem[] = [];
      const d = Buffer.from(m.digests!.buffer, m.digests!.byteOffset, m.digests!.byteLength);
      for (let i = 0; i < m.sizes!.length; i++) {
        const error = m.errors![i];
        if (error) out.push({ ok: false, error });
        else out.push({ ok: true, size: m.sizes![i]!, mtime_ms: m.mtimes![i]!, partial: d.subarray(i * 64, i * 64 + 32), full: d.subarray(i * 64 + 32, i * 64 + 64) });
      }
      p.resolve(out);
    } else if (m.ok) {
      p.resolve({ size: m.size!, mtime_ms: m.mtime_ms!, partial: Buffer.from(m.partial!), full: m.full ? Buffer.from(m.full) : null } satisfies PoolResult);
    } else {
      p.reject(Object.assign(new Error(m.message), { code: m.code }));
    }
  }

  private send<T>(msg: Record<string, unknown>): Promise<T> {
    let best = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.inflight[i]! < this.inflight[best]!) best = i;
    const id = this.nextId++;
    this.inflight[best]!++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject, worker: best });
      this.workers[best]!.postMessage({ ...msg, id });
    });
  }

  hash(path: string, full: boolean): Promise<PoolResult> {
    return this.send<PoolResult>({ path, full });
  }

  /**
   * Hash several files in one worker round trip; results come back in the same order. A file
   * that cannot be read is an `ok: false` item, not a rejection. With `full` false the full
   * hashes are not computed (their bytes are zero).
   */
  async hashMany(paths: string[], full: boolean): Promise<BatchItem[]> {
    const items = await this.send<BatchItem[]>({ paths, full });
    return full ? items : items.map((it) => (it.ok ? { ...it, full: null } : it));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
