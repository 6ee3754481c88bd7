import { Worker } from 'node:worker_threads';
import { workerScript } from '../util/worker-script.js';
import { BurrowError } from '../errors.js';
import type { PublishStats } from './publish.js';
import type { RequestRow } from './build.js';
import type { ScanChange } from '../index/scanner.js';

/** One publish as sent to the worker: plain data only. */
export interface PublishJob {
  id: number;
  root: string;
  dbFile: string;
  devices: string[];
  requestRows: Array<[string, RequestRow[]]>;
  trashDays: number;
  torrents?: boolean | undefined;
  agentPort?: number | undefined;
  chunkEvery?: number | undefined;
  /** The index changes since the previous job, or null for a full build (see PublishInput.changes). */
  changes: ScanChange[] | null;
}

export type PublishReply =
  | { id: number; ok: true; stats: PublishStats }
  | { id: number; ok: false; error: { message: string; code?: string | undefined; hint?: string | undefined; stack?: string | undefined } };

interface Pending {
  id: number;
  resolve: (s: PublishStats) => void;
  reject: (e: Error) => void;
}

/**
 * Runs catalogue publishes on one long-lived worker thread, so rendering a million-file
 * catalogue (seconds of CPU) never blocks the NAS event loop. One publish at a time: the caller
 * (CatalogueService) already serialises them, and a second call while one runs is refused.
 * A worker that dies is replaced at the next publish.
 */
export class WorkerPublisher {
  private worker: Worker | null = null;
  private pending: Pending | null = null;
  private nextId = 1;
  private closed = false;

  /** The worker's thread id (tests check it is not the main thread and survives between publishes). */
  get threadId(): number | null {
    return this.worker?.threadId ?? null;
  }

  publish(job: Omit<PublishJob, 'id'>): Promise<PublishStats> {
    if (this.closed) return Promise.reject(new BurrowError('CATALOGUE_CLOSED', 'The catalogue publisher is closed.', 'Publishes stop when the NAS stops; start it again.'));
    if (this.pending) return Promise.reject(new BurrowError('CATALOGUE_BUSY', 'A catalogue publish is already running.', 'Wait for it to finish; the catalogue service serialises publishes.'));
    const w = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<PublishStats>((resolve, reject) => {
      this.pending = { id, resolve, reject };
      w.ref();
      w.postMessage({ ...job, id } satisfies PublishJob);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(workerScript('./publish-worker.js', import.meta.url));
    w.on('message', (m: PublishReply) => {
      const p = this.pending;
      if (!p || p.id !== m.id) return;
      this.pending = null;
      w.unref();
      if (m.ok) p.resolve(m.stats);
      else p.reject(Object.assign(new BurrowError(m.error.code ?? 'CATALOGUE_PUBLISH_FAILED', m.error.message, m.error.hint ?? 'The next change retries the publish; see the NAS log for the cause.'), { stack: m.error.stack }));
    });
    const fail = (err: Error) => {
      if (this.worker === w) this.worker = null;
      const p = this.pending;
      this.pending = null;
      p?.reject(err);
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new BurrowError('CATALOGUE_WORKER_EXITED', `The catalogue publish worker exited (code ${code}).`, 'The next publish starts a new worker; see the NAS log if this repeats.')));
    w.unref();
    this.worker = w;
    return w;
  }

  /** Stop the worker (after the caller has awaited any running publish). */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
