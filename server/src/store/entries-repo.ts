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

/** Rows per multi-row INSERT of a bulk load (15 columns each, well under SQLite's 32,766 parameters). */
const INSERT_CHUNK = 64;

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
  private readonly insertStmt;
  private readonly insertChunkStmt;
  private readonly anyInAreaStmt;

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
    const cols = '(area, path, parent, kind, size, mtime_ms, ino, dev, nlink, mode, uid, gid, link_target, error, seen_at)';
    const one = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
    this.insertStmt = db.prepare(`INSERT INTO entries ${cols} VALUES ${one}`);
    this.insertChunkStmt = db.prepare(`INSERT INTO entries ${cols} VALUES ${new Array<string>(INSERT_CHUNK).fill(one).join(', ')}`);
    this.anyInAreaStmt = db.prepare('SELECT 1 FROM entries WHERE area = ? LIMIT 1').pluck();
  }

  /** Does the index hold nothing for this area yet (a first scan)? */
  areaIsEmpty(area: string): boolean {
    return this.anyInAreaStmt.get(area) === undefined;
  }

  isEmpty(): boolean {
    return this.db.prepare('SELECT 1 FROM entries LIMIT 1').pluck().get() === undefined;
  }

  /**
   * Insert rows known to be new (a first scan of an empty area): no conflict handling, and
   * INSERT_CHUNK rows per statement, because at 200k rows the per-statement call was a
   * large share of the scan.
   */
  insertNew(rows: EntryRow[], seenAt = 0): void {
    let i = 0;
    const args: Array<string | number | null> = new Array<string | number | null>(INSERT_CHUNK * 15);
    for (; i + INSERT_CHUNK <= rows.length; i += INSERT_CHUNK) {
      for (let j = 0; j < INSERT_CHUNK; j++) {
        const r = rows[i + j]!;
        const o = j * 15;
        args[o] = r.area;
        args[o + 1] = r.path;
        args[o + 2] = r.parent;
        args[o + 3] = r.kind;
        args[o + 4] = r.size;
        args[o + 5] = r.mtime_ms;
        args[o + 6] = r.ino;
        args[o + 7] = r.dev;
        args[o + 8] = r.nlink;
        args[o + 9] = r.mode;
        args[o + 10] = r.uid;
        args[o + 11] = r.gid;
        args[o + 12] = r.link_target;
        args[o + 13] = r.error;
        args[o + 14] = seenAt;
      }
      this.insertChunkStmt.run(args);
    }
    for (; i < rows.length; i++) {
      const r = rows[i]!;
      this.insertStmt.run(r.area, r.path, r.parent, r.kind, r.size, r.mtime_ms, r.ino, r.dev, r.nlink, r.mode, r.uid, r.gid, r.link_target, r.error, seenAt);
    }
  }

  /**
   * Drop the entries table's secondary indexes for a bulk load into an empty table, returning
   * what rebuilds them (their SQL as stored, so later migrations' changes are kept). Call both
   * inside one transaction: a crash rolls the drop back with the rows.
   */
  dropSecondaryIndexes(): () => void {
    const defs = this.db
      .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries' AND sql IS NOT NULL")
      .all() as Array<{ name: string; sql: string }>;
    for (const d of defs) this.db.exec(`DROP INDEX "${d.name.replaceAll('"', '""')}"`);
    return () => {
      for (const d of defs) this.db.exec(d.sql);
    };
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

  /**
   * Files in a device's folder that nobody adopted: neither the store's file at that path nor,
   * where the store no longer has that path, the link the NAS made there (device_links; a file
   * the owner removed from the store stays removed). What a device sent just before the NAS
   * stopped, or while its services were still opening.
   */
  unadoptedDeviceFiles(device: string): string[] {
    return this.db
      .prepare(
        `SELECT d.path FROM entries d
           LEFT JOIN entries s ON s.area = 'files' AND s.path = d.path
           LEFT JOIN device_links l ON l.device = ? AND l.path = d.path
         WHERE d.area = ? AND d.kind = 'file'
           AND NOT coalesce(s.kind = 'file' AND s.dev = d.dev AND s.ino = d.ino, 0)
           AND NOT coalesce(s.path IS NULL AND l.ino = d.ino, 0)`,
      )
      .pluck()
      .all(device, deviceArea(device)) as string[];
  }

  /** The files of an area, by path. */
  filePaths(area: string): string[] {
    return this.db.prepare("SELECT path FROM entries WHERE area = ? AND kind = 'file' ORDER BY path").pluck().all(area) as string[];
  }

  areas(): string[] {
    return this.db.prepare('SELECT DISTINCT area FROM entries').pluck().all() as string[];
  }
}
