import type { Db } from './db.js';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other' | 'error';

/** One row of the index: an entry under files/, devices/<d>/ or shared/<s>/. */
export interface EntryRow {
  area: string;
  path: string;
  parent: string;
  kind: EntryKind;
  size: number;
  mtime_ms: number;
  ino: number;
  dev: number;
  nlink: number;
  mode: number;
  uid: number;
  gid: number;
  link_target: string | null;
  error: string | null;
}

/**
 * A stored child as a positional tuple, the reconcile's hot path (arrays from SQLite cost a
 * fraction of objects): path, kind, size, mtime_ms, ino, dev, nlink, mode, uid, gid, link_target, error.
 */
export type StoredChild = [string, EntryKind, number, number, number, number, number, number, number, number, string | null, string | null];

export const FILES_AREA = 'files';
export const deviceArea = (name: string): string => `device:${name}`;
export const shareArea = (id: string): string => `share:${id}`;

export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/** Upper bound for a prefix range query: every path under `dir/` sorts in [dir/, dir0). */
export function subtreeRange(dir: string): [string, string] {
  return [dir + '/', dir + '0'];
}

/**
 * The index's entries table. The only module that writes SQL about entries.
 * Statements are prepared once per database; batched writes run inside the caller's transaction.
 */
export class EntriesRepo {
  private readonly upsertStmt;
  private readonly deleteStmt;
  private readonly deleteSubtreeStmt;
  private readonly childrenStmt;
  private readonly childrenRawStmt;
  private readonly getStmt;
  private readonly holdersStmt;
  private readonly linksStmt;
  private readonly areaCountStmt;

  constructor(readonly db: Db) {
    this.upsertStmt = db.prepare(`
      INSERT INTO entries (area, path, parent, kind, size, mtime_ms, ino, dev, nlink, mode, uid, gid, link_target, error, seen_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (area, path) DO UPDATE SET parent = excluded.parent, kind = excluded.kind, size = excluded.size,
        mtime_ms = excluded.mtime_ms, ino = excluded.ino, dev = excluded.dev, nlink = excluded.nlink, mode = excluded.mode,
        uid = excluded.uid, gid = excluded.gid, link_target = excluded.link_target, error = excluded.error, seen_at = excluded.seen_at`);
    this.deleteStmt = db.prepare('DELETE FROM entries WHERE area = ? AND path = ?');
    this.deleteSubtreeStmt = db.prepare('DELETE FROM entries WHERE area = ? AND path >= ? AND path < ?');
    this.childrenStmt = db.prepare('SELECT * FROM entries WHERE area = ? AND parent = ? AND path != \'\'');
    this.childrenRawStmt = db
      .prepare("SELECT path, kind, size, mtime_ms, ino, dev, nlink, mode, uid, gid, link_target, error FROM entries WHERE area = ? AND parent = ? AND path != ''")
      .raw(true);
    this.getStmt = db.prepare('SELECT * FROM entries WHERE area = ? AND path = ?');
    this.holdersStmt = db.prepare("SELECT area, path FROM entries WHERE dev = ? AND ino = ? AND kind = 'file' AND area != 'files'");
    this.linksStmt = db.prepare("SELECT area, path FROM entries WHERE dev = ? AND ino = ? AND kind = 'file'");
    this.areaCountStmt = db.prepare("SELECT kind, count(*) AS n, coalesce(sum(size), 0) AS bytes FROM entries WHERE area = ? GROUP BY kind");
  }

  upsert(row: EntryRow, seenAt = 0): void {
    // Positional binding: measurably cheaper than named parameters at 200k rows per scan.
    this.upsertStmt.run(row.area, row.path, row.parent, row.kind, row.size, row.mtime_ms, row.ino, row.dev, row.nlink, row.mode, row.uid, row.gid, row.link_target, row.error, seenAt);
  }

  /** Remove an entry and, if it was a folder, everything below it. */
  remove(area: string, rel: string): void {
    this.deleteStmt.run(area, rel);
    const [lo, hi] = rel === '' ? ['', '\uffff'] : subtreeRange(rel);
    this.deleteSubtreeStmt.run(area, lo, hi);
  }

  removeArea(area: string): void {
    this.deleteSubtreeStmt.run(area, '', '\uffff');
  }

  get(area: string, rel: string): EntryRow | undefined {
    return this.getStmt.get(area, rel) as EntryRow | undefined;
  }

  children(area: string, parent: string): EntryRow[] {
    return this.childrenStmt.all(area, parent) as EntryRow[];
  }

  /** The children of one folder as compact tuples (see StoredChild). */
  childrenRaw(area: string, parent: string): StoredChild[] {
    return this.childrenRawStmt.all(area, parent) as StoredChild[];
  }

  /** Every indexed path of this inode, in any area (store, devices, shares). */
  linksOf(dev: number, ino: number): Array<{ area: string; path: string }> {
    return this.linksStmt.all(dev, ino) as Array<{ area: string; path: string }>;
  }

  /** Which device and share areas hold a hard link to this inode. */
  holdersOf(dev: number, ino: number): Array<{ area: string; path: string }> {
    return this.holdersStmt.all(dev, ino) as Array<{ area: string; path: string }>;
  }

  countByKind(area: string): Record<string, { n: number; bytes: number }> {
    const out: Record<string, { n: number; bytes: number }> = {};
    for (const r of this.areaCountStmt.all(area) as Array<{ kind: string; n: number; bytes: number }>) out[r.kind] = { n: r.n, bytes: r.bytes };
    return out;
  }

  areas(): string[] {
    return this.db.prepare('SELECT DISTINCT area FROM entries').pluck().all() as string[];
  }
}
