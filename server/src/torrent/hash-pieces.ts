import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerScript } from '../util/worker-script.js';
import { BurrowError } from '../errors.js';
import type { PieceJob } from './hash-worker.js';

/**
 * SHA-1 of every piece, in worker threads so hashing uses every core and never blocks the NAS's
 * event loop. The pieces are cut into runs of contiguous pieces, several per thread, handed out
 * as threads come free: a thread that the scheduler starves (a busy NAS, another torrent being
 * made) simply takes fewer runs.
 *
 * The threads outlive one torrent and stop after a minute without work. Starting them costs
 * ~25 ms and ~45 ms of CPU each, 10 % of hashing 2 GiB on a 2-core machine,
 * where one thread per core is also what hashes fastest (a third thread only made them share
 * the caches; bench:torrent, BENCHMARKS.md).
 */
export async function hashPieces(files: Array<{ abs: string; size: number }>, pieceLength: number, totalBytes: number): Promise<Buffer> {
  const pieces = Math.ceil(totalBytes / pieceLength);
  if (pieces === 0) return Buffer.alloc(0);
  const pool = (shared ??= new PieceHashPool(os.availableParallelism()));
  // Four runs per thread, none under 16 pieces (below that a run's message costs more than it saves).
  const per = Math.max(16, Math.ceil(pieces / (pool.size * 4)));
  const starts: number[] = [0];
  for (const f of files) starts.push(starts.at(-1)! + f.size);
  const runs: PieceJob[] = [];
  // Runs are in byte order, so the first file of each run is found from where the last one began.
  let a = 0;
  for (let first = 0; first < pieces; first += per) {
    const end = Math.min(pieces, first + per);
    const fromByte = first * pieceLength;
    const toByte = Math.min(totalBytes, end * pieceLength);
    // Only the files this run reads: a folder of many files is not copied to every thread.
    while (a < files.length && starts[a + 1]! <= fromByte) a++;
    let b = a;
    while (b < files.length && starts[b]! < toByte) b++;
    runs.push({ files: files.slice(a, b), filesStart: starts[a]!, pieceLength, firstPiece: first, endPiece: end, totalBytes });
  }
  const cancel = { cancelled: false };
  try {
    const parts = await Promise.all(runs.map((job) => pool.run(job, cancel)));
    return Buffer.concat(parts);
  } catch (err) {
    cancel.cancelled = true; // the other runs of this torrent leave the queue
    throw err instanceof BurrowError ? err : couldNotHash((err as Error).message);
  }
}

const couldNotHash = (why: string) => new BurrowError('SOURCE_CHANGED', `Could not hash the torrent's pieces: ${why}.`, 'Try again when nothing writes to the files.');

let shared: PieceHashPool | undefined;

interface Task {
  job: PieceJob;
  cancel: { cancelled: boolean };
  resolve: (hashes: Uint8Array) => void;
  reject: (err: Error) => void;
}

const IDLE_MS = 60_000;

class PieceHashPool {
  private readonly busy = new Map<Worker, Task>();
  private readonly idle: Worker[] = [];
  private readonly queue: Task[] = [];
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(readonly size: number) {}

  run(job: PieceJob, cancel: { cancelled: boolean }): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, cancel, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    clearTimeout(this.idleTimer);
    for (;;) {
      while (this.queue[0]?.cancel.cancelled) this.queue.shift(); // a failed torrent's other runs
      if (this.queue.length === 0) break;
      const w = this.idle.pop() ?? (this.busy.size + this.idle.length < this.size ? this.spawn() : undefined);
      if (!w) break;
      const task = this.queue.shift()!;
      this.busy.set(w, task);
      w.ref(); // a busy thread keeps the process alive until its run is done
      w.postMessage({ id: 0, job: task.job });
    }
    if (this.busy.size === 0 && this.idle.length > 0) {
      this.idleTimer = setTimeout(() => void this.stopIdle(), IDLE_MS);
      this.idleTimer.unref();
    }
  }

  private spawn(): Worker {
    // A small young generation: a run's garbage is one read buffer and its digests.
    const w = new Worker(workerScript('./hash-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    w.on('message', (m: { hashes?: Uint8Array; error?: string }) => {
      const task = this.busy.get(w);
      this.busy.delete(w);
      this.idle.push(w);
      w.unref();
      if (task) {
        if (m.hashes) task.resolve(m.hashes);
        else task.reject(couldNotHash(m.error ?? 'unknown error'));
      }
      this.pump();
    });
    const gone = (err: Error) => {
      const task = this.busy.get(w);
      this.busy.delete(w);
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      task?.reject(err);
      this.pump();
    };
    w.on('error', gone);
    w.on('exit', (code) => gone(new Error(`a hashing thread exited (code ${code})`)));
    return w;
  }

  private async stopIdle(): Promise<void> {
    const idle = this.idle.splice(0);
    await Promise.all(idle.map((w) => w.terminate()));
  }
}
