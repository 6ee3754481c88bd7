import { EventEmitter } from 'node:events';
import path from 'node:path';
import type fs from 'node:fs';
import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import { FILES_AREA, deviceArea, shareArea } from '../store/entries-repo.js';
import type { RootLayout } from '../root/layout.js';
import { scanArea, scanRoot, type ScanChange, type ScanStats } from './scanner.js';
import { statRow, sameRow } from './stat-row.js';
import { isIgnored } from './ignore.js';
import { FolderWatcher, relativeInside } from './watcher.js';
import { hashPending, type HashProgress } from './hasher.js';
import { HashPool } from './hash-pool.js';

export interface IndexerOptions {
  watch: boolean;
  debounceMs: number;
  hashWorkers: number;
  hashQueue: number;
  reconcileMinutes: number;
  /** Hash contents in the background after each change (off in some tests and benches). */
  hash?: boolean;
  /** The hashing threads stop after this long with nothing to hash (default a minute). */
  hashPoolIdleMs?: number;
}

/**
 * Two idle hash workers cost ~25 MB of a small NAS's memory for as long as it runs; starting
 * them again takes tens of milliseconds when the next file changes.
 */
const HASH_POOL_IDLE_MS = 60_000;

export interface IndexChangedEvent {
  changes: ScanChange[];
}

/**
 * Keeps the index current while the NAS runs: reconcile at open, then watch, plus a periodic
 * reconcile, plus background hashing. Emits 'changed' with the (area, path) pairs that moved.
 * Other services call `refresh()` after they change the disk themselves, so they never wait
 * for the watcher's debounce to see their own work.
 */
export class Indexer extends EventEmitter {
  private fw: FolderWatcher | null = null;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private hashing: Promise<unknown> | null = null;
  private hashAgain = false;
  private pool: HashPool | null = null;
  private poolIdle: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  lastScan: ScanStats | null = null;
  lastHash: HashProgress | null = null;
  hashRunning = false;

  constructor(
    private readonly store: Store,
    private readonly layout: RootLayout,
    private readonly opts: IndexerOptions,
    private readonly log: Logger,
  ) {
    super();
  }

  async open(): Promise<void> {
    this.reconcile();
    if (this.opts.watch) {
      this.fw = new FolderWatcher(this.opts.debounceMs, (p) => this.onPaths(p), (err) => this.log.warn({ err }, 'watcher error'));
      for (const dir of [this.layout.files, this.layout.devices, this.layout.shared]) await this.fw.watch(dir);
    }
    if (this.opts.reconcileMinutes > 0) {
      this.reconcileTimer = setInterval(() => this.reconcile(), this.opts.reconcileMinutes * 60_000);
      this.reconcileTimer.unref();
    }
    this.kickHashing();
  }

  /** Full compare of disk and index; emits what differed. */
  reconcile(): ScanStats {
    // At start nobody listens yet (the services open after the index, and catch up on their
    // own): collecting a first scan's changes only to drop them held ~100 B per file, about
    // 100 MB of the NAS's peak at 1,000,000 files.
    const listened = this.listenerCount('changed') > 0;
    const changes: ScanChange[] = [];
    let storeChanged = false;
    const stats = scanRoot(this.store, this.layout, {
      onChange: (c) => {
        if (c.area === FILES_AREA) storeChanged = true;
        if (listened) changes.push(c);
      },
    });
    this.lastScan = stats;
    this.log.info({ ...stats }, 'reconcile done');
    if (changes.length > 0) this.emitChanges(changes);
    else if (storeChanged) this.kickHashing();
    return stats;
  }

  /**
   * Re-read these absolute paths now (a folder: its whole subtree). `known` gives lstats taken
   * an instant ago by whoever just made those paths (the links of a get), used instead of
   * stat-ing them again.
   */
  refresh(absPaths: string[], known?: ReadonlyMap<string, fs.Stats>): ScanChange[] {
    const changes: ScanChange[] = [];
    this.store.tx(() => {
      for (const abs of absPaths) {
        const where = this.locate(abs);
        if (!where) continue;
        const { area, rel, areaDir } = where;
        if (rel === '' || isIgnored(area, rel)) {
          if (rel === '') scanArea(this.store, area, areaDir, '', { onChange: (c) => changes.push(c), known });
          continue;
        }
        const row = statRow(area, rel, abs);
        const old = this.store.entries.get(area, rel);
        if (!row) {
          if (old) {
            this.store.entries.remove(area, rel);
            changes.push({ area, path: rel });
          }
          continue;
        }
        // Make sure the parents are known (a folder created with mkdir -p).
        this.ensureParents(area, rel, areaDir, changes);
        if (!old || !sameRow(old, row)) {
          if (old && old.kind === 'dir' && row.kind !== 'dir') this.store.entries.remove(area, rel);
          this.store.entries.upsert(row);
          changes.push({ area, path: rel });
          if (row.kind === 'file' && row.nlink > 1 && old?.kind === 'file' && old.ino === row.ino) this.refreshOtherLinks(row, changes);
        }
        if (row.kind === 'dir') scanArea(this.store, area, areaDir, rel, { onChange: (c) => changes.push(c), known });
      }
    });
    if (changes.length > 0) this.emitChanges(changes);
    return changes;
  }

  /**
   * An in-place write through one hard link changes every path of that inode (dedupe's twins,
   * devices' and shares' links), but the watcher only hears of the path written through: re-read
   * the others the index knows, so the catalogue and the sync engines see the new size and date.
   */
  private refreshOtherLinks(row: { area: string; path: string; dev: number; ino: number }, changes: ScanChange[]): void {
    for (const h of this.store.entries.linksOf(row.dev, row.ino)) {
      if (h.area === row.area && h.path === row.path) continue;
      const dir = h.area === FILES_AREA ? this.layout.files : h.area.startsWith('device:') ? this.layout.device(h.area.slice(7)) : h.area.startsWith('share:') ? this.layout.share(h.area.slice(6)) : null;
      if (!dir) continue;
      const twin = statRow(h.area, h.path, path.join(dir, h.path));
      const was = this.store.entries.get(h.area, h.path);
      if (!twin || !was || sameRow(was, twin)) continue;
      this.store.entries.upsert(twin);
      changes.push({ area: h.area, path: h.path });
    }
  }

  private ensureParents(area: string, rel: string, areaDir: string, changes: ScanChange[]): void {
    let parent = rel.lastIndexOf('/') < 0 ? '' : rel.slice(0, rel.lastIndexOf('/'));
    const missing: string[] = [];
    while (parent !== '' && !this.store.entries.get(area, parent)) {
      missing.push(parent);
      parent = parent.lastIndexOf('/') < 0 ? '' : parent.slice(0, parent.lastIndexOf('/'));
    }
    for (const p of missing.reverse()) {
      const row = statRow(area, p, path.join(areaDir, p));
      if (row) {
        this.store.entries.upsert(row);
        changes.push({ area, path: p });
      }
    }
  }

  private locate(abs: string): { area: string; rel: string; areaDir: string } | null {
    const inFiles = relativeInside(this.layout.files, abs);
    if (inFiles !== null) return { area: FILES_AREA, rel: inFiles === '' ? '' : inFiles, areaDir: this.layout.files };
    for (const [base, make] of [
      [this.layout.devices, deviceArea],
      [this.layout.shared, shareArea],
    ] as const) {
      const r = relativeInside(base, abs);
      if (r === null || r === '') continue;
      const slash = r.indexOf('/');
      const name = slash < 0 ? r : r.slice(0, slash);
      return { area: make(name), rel: slash < 0 ? '' : r.slice(slash + 1), areaDir: path.join(base, name) };
    }
    return null;
  }

  private onPaths(paths: string[]): void {
    try {
      this.refresh(paths);
    } catch (err) {
      this.log.error({ err }, 'index update failed; a reconcile will repair it');
    }
  }

  private emitChanges(changes: ScanChange[]): void {
    this.emit('changed', { changes } satisfies IndexChangedEvent);
    if (changes.some((c) => c.area === FILES_AREA)) this.kickHashing();
  }

  /** Whether hashing threads are running now (they stop when idle). */
  get hashThreads(): number {
    return this.pool?.size ?? 0;
  }

  private stopIdlePool(): void {
    this.poolIdle = null;
    if (this.hashing || !this.pool) return;
    const pool = this.pool;
    this.pool = null;
    pool.close().catch((err: unknown) => this.log.warn({ err }, 'stopping the idle hashing threads failed'));
  }

  /** Start background hashing, or ask the running pass to go round again. */
  kickHashing(): void {
    if (this.opts.hash === false) return;
    if (this.hashing) {
      this.hashAgain = true;
      return;
    }
    if (this.poolIdle) clearTimeout(this.poolIdle);
    this.poolIdle = null;
    this.pool ??= new HashPool(this.opts.hashWorkers);
    this.hashRunning = true;
    this.hashing = (async () => {
      do {
        this.hashAgain = false;
        this.lastHash = await hashPending(this.store, this.layout.files, { workers: this.opts.hashWorkers, queue: this.opts.hashQueue, signal: this.abort.signal, pool: this.pool! });
      } while (this.hashAgain && !this.abort.signal.aborted);
    })()
      .catch((err) => this.log.error({ err }, 'hashing failed'))
      .finally(() => {
        this.hashing = null;
        this.hashRunning = false;
        this.poolIdle = setTimeout(() => this.stopIdlePool(), this.opts.hashPoolIdleMs ?? HASH_POOL_IDLE_MS);
        this.poolIdle.unref();
        this.emit('hashed', this.lastHash);
      });
  }

  /** Resolves when background hashing is idle. */
  async hashIdle(): Promise<void> {
    while (this.hashing) await this.hashing;
  }

  async close(): Promise<void> {
    this.abort.abort();
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    await this.fw?.close();
    await this.hashing;
    if (this.poolIdle) clearTimeout(this.poolIdle);
    await this.pool?.close();
    this.pool = null;
  }
}
