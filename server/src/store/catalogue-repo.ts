import type { Db } from './db.js';

/** One files/ entry as the catalogue publishes it: [path, kind, size, mtime_ms, dev, ino]. */
export type CatalogueRow = [path: string, kind: 'file' | 'dir', size: number, mtimeMs: number, dev: number, ino: number];

/** One hard link outside files/: [dev, ino, area]. */
export type HolderRow = [dev: number, ino: number, area: string];

/**
 * The catalogue publisher's batched reads. At 1,000,000 files, objects per row cost seconds,
 * so both queries stream raw arrays in one pass instead of asking per file (holdersOf).
 */
export class CatalogueRepo {
  private readonly filesStmt;
  private readonly holdersStmt;

  constructor(readonly db: Db) {
    // Ordered by the (area, path) unique index, so no sort step; BINARY order = UTF-8 byte order.
    this.filesStmt = db.prepare("SELECT path, kind, size, mtime_ms, dev, ino FROM entries WHERE area = 'files' AND path != '' AND kind IN ('file', 'dir') ORDER BY path").raw(true);
    this.holdersStmt = db.prepare("SELECT dev, ino, area FROM entries WHERE kind = 'file' AND area != 'files'").raw(true);
  }

  /** Every file and folder under files/, sorted by path. */
  filesSorted(): IterableIterator<CatalogueRow> {
    return this.filesStmt.iterate() as IterableIterator<CatalogueRow>;
  }

  /** Every file hard link in a device or share folder. */
  holderLinks(): IterableIterator<HolderRow> {
    return this.holdersStmt.iterate() as IterableIterator<HolderRow>;
  }
}
