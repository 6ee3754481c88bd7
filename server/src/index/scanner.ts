import fs from 'node:fs';
import path from 'node:path';
import type { Store } from '../store/index.js';
import { FILES_AREA, deviceArea, shareArea, type EntryRow, type StoredChild } from '../store/entries-repo.js';
import type { RootLayout } from '../root/layout.js';
import { rowFromStats, errorRow, sameRow, storedMatchesStats, storedToRow } from './stat-row.js';
import { isIgnored } from './ignore.js';

export interface ScanStats {
  dirs: number;
  files: number;
  bytes: number;
  errors: number;
  added: number;
  changed: number;
  removed: number;
  elapsedMs: number;
}

export interface ScanChange {
  area: string;
  path: string;
}

export interface ScanOptions {
  onProgress?: (s: ScanStats) => void;
  onChange?: (c: ScanChange) => void;
  /** Rows written per transaction. */
  batchSize?: number;
  /**
   * The area is known to hold no rows (a first scan): skip the per-folder lookup of stored rows
   * and insert without conflict handling. Found out by scanArea itself when not given.
   */
  bulk?: boolean;
  /** lstats of paths (absolute) taken an instant ago by whoever made them: used instead of an lstat. */
  known?: ReadonlyMap<string, fs.Stats>;
  /** Test seam: runs after each readdir, before its entries are stat'ed (a race made deterministic). */
  afterReaddir?: (absDir: string, names: string[]) => void;
}

export function emptyStats(): ScanStats {
  return { dirs: 0, files: 0, bytes: 0, errors: 0, added: 0, changed: 0, removed: 0, elapsedMs: 0 };
}

/**
 * Bring the index of one area in line with the disk, one folder at a time: readdir, lstat each
 * entry, compare with the folder's stored rows, write only what differs. The same pass is the
 * first scan (nothing stored) and the reconcile at start (everything stored): memory stays
 * bounded by the largest folder, not by the store, which is what lets it reach 1M files.
 *
 * Synchronous on purpose: sync fs calls skip the libuv thread-pool round trip per stat, which
 * is most of the cost at 200k files. `burrow start` runs it before serving, or in a worker.
 */
export function scanArea(store: Store, area: string, absDir: string, startRel = '', opts: ScanOptions = {}, stats = emptyStats()): ScanStats {
  const t0 = performance.now();
  const elapsedBefore = stats.elapsedMs;
  const batchSize = opts.batchSize ?? 4000;
  const { entries } = store;
  const bulk = opts.bulk ?? entries.areaIsEmpty(area);
  let pendingUpserts: EntryRow[] = [];
  let pendingNew: EntryRow[] = [];
  let pendingRemovals: string[] = [];
  const flush = () => {
    if (pendingUpserts.length === 0 && pendingRemovals.length === 0 && pendingNew.length === 0) return;
    const ups = pendingUpserts;
    const rms = pendingRemovals;
    const news = pendingNew;
    pendingUpserts = [];
    pendingRemovals = [];
    pendingNew = [];
    store.tx(() => {
      for (const r of rms) entries.remove(area, r);
      entries.insertNew(news);
      // After the new rows: an unreadable folder's error row replaces the row its parent wrote.
      for (const u of ups) entries.upsert(u);
    });
  };
  const none: StoredChild[] = [];
  const known = opts.known !== undefined && opts.known.size > 0 ? opts.known : undefined;
  const stack: string[] = [startRel];
  let sinceProgress = 0;
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const abs = rel === '' ? absDir : path.join(absDir, rel);
    stats.dirs++;
    let dirents: fs.Dirent[];
    try {
      dirents = fs.readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue; // vanished since its parent was read
      stats.errors++;
      if (rel !== '') pendingUpserts.push(errorRow(area, rel, err));
      continue;
    }
    // A bulk load inserts in key order (names sorted, folders walked in order), so the
    // (area, path) index grows at its end instead of splitting pages all over.
    if (bulk) dirents.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    const subdirsAt = stack.length;
    if (opts.afterReaddir) opts.afterReaddir(abs, dirents.map((d) => d.name));
    // Stored children as compact tuples keyed by path: no row objects for what did not change.
    const stored = new Map<string, StoredChild>();
    for (const r of bulk ? none : entries.childrenRaw(area, rel)) stored.set(r[0], r);
    const relPrefix = rel === '' ? '' : rel + '/';
    const absPrefix = abs.endsWith('/') ? abs : abs + '/';
    for (let i = 0; i < dirents.length; i++) {
      const name = dirents[i]!.name;
      const childRel = relPrefix + name;
      if (isIgnored(area, childRel)) continue;
      const childAbs = absPrefix + name;
      const old = stored.get(childRel);
      if (old !== undefined) stored.delete(childRel);
      let st: fs.Stats | undefined;
      let row: EntryRow | null = null;
      try {
        st = known?.get(childAbs) ?? fs.lstatSync(childAbs, { throwIfNoEntry: false });
      } catch (err) {
        row = errorRow(area, childRel, err);
        stats.errors++;
      }
      if (row === null) {
        if (st === undefined) {
          // Deleted between readdir and stat: the stored row (if any) goes with the leftovers.
          if (old !== undefined) stored.set(childRel, old);
          continue;
        }
        if (st.isFile()) {
          stats.files++;
          stats.bytes += st.size;
        } else if (st.isDirectory()) {
          stack.push(childRel);
        }
        // The common case of a reconcile: compare numbers in place and move on.
        if (old !== undefined && storedMatchesStats(old, st)) continue;
        row = rowFromStats(area, childRel, childAbs, st);
      }
      if (old === undefined) {
        stats.added++;
        // Not among the folder's stored children, so not in the table at all (a row's parent
        // is always its path's folder): a plain INSERT, batched, is enough.
        pendingNew.push(row);
        if (opts.onChange) opts.onChange({ area, path: childRel });
      } else if (!sameRow(storedToRow(area, rel, old), row)) {
        stats.changed++;
        if (old[1] === 'dir' && row.kind !== 'dir') pendingRemovals.push(childRel);
        pendingUpserts.push(row);
        if (opts.onChange) opts.onChange({ area, path: childRel });
      }
    }
    if (bulk) reverseTail(stack, subdirsAt); // popped first = smallest name
    for (const gone of stored.keys()) {
      stats.removed++;
      pendingRemovals.push(gone);
      opts.onChange?.({ area, path: gone });
    }
    if (pendingUpserts.length + pendingRemovals.length + pendingNew.length >= batchSize) flush();
    if (opts.onProgress && ++sinceProgress >= 64) {
      sinceProgress = 0;
      stats.elapsedMs = elapsedBefore + performance.now() - t0;
      opts.onProgress(stats);
    }
  }
  flush();
  stats.elapsedMs = elapsedBefore + performance.now() - t0;
  return stats;
}

function reverseTail<T>(xs: T[], from: number): void {
  for (let i = from, j = xs.length - 1; i < j; i++, j--) [xs[i], xs[j]] = [xs[j]!, xs[i]!];
}

/** Every area of a root: files/, each devices/<d>/ and each shared/<s>/. Areas whose folder is gone are dropped. */
export function listAreas(layout: RootLayout): Array<{ area: string; dir: string }> {
  const out = [{ area: FILES_AREA, dir: layout.files }];
  for (const [base, make] of [
    [layout.devices, deviceArea],
    [layout.shared, shareArea],
  ] as const) {
    let names: fs.Dirent[] = [];
    try {
      names = fs.readdirSync(base, { withFileTypes: true });
    } catch {
      /* missing: no areas */
    }
    for (const d of names) if (d.isDirectory()) out.push({ area: make(d.name), dir: path.join(base, d.name) });
  }
  return out;
}

export function scanRoot(store: Store, layout: RootLayout, opts: ScanOptions = {}): ScanStats {
  const stats = emptyStats();
  const areas = listAreas(layout);
  const live = new Set(areas.map((a) => a.area));
  for (const stale of store.entries.areas()) {
    if (!live.has(stale)) {
      store.tx(() => store.entries.removeArea(stale));
      opts.onChange?.({ area: stale, path: '' });
    }
  }
  if (!store.entries.isEmpty()) {
    for (const a of areas) scanArea(store, a.area, a.dir, '', opts, stats);
    return stats;
  }
  // A first scan: bulk-load every area in one transaction with the secondary indexes dropped,
  // then build them once over the sorted rows (cheaper than keeping them up to date row by row).
  // A crash rolls the whole load back, indexes included; readers see the index only complete.
  store.tx(() => {
    const rebuild = store.entries.dropSecondaryIndexes();
    for (const a of areas) scanArea(store, a.area, a.dir, '', { ...opts, bulk: true }, stats);
    rebuild();
  });
  return stats;
}
