import type { Db } from './db.js';

/** One files/ entry as the catalogue publishes it: [path, kind, size, mtime_ms, dev, ino]. */
export type CatalogueRow = [path: string, kind: 'file' | 'dir', size: number, mtimeMs: number, dev: number, ino: number];

/**
 * The catalogue publisher's batched reads. At 1,000,000 files, objects per row cost seconds,
 * so every query streams raw arrays in path order instead of asking per file.
 */
export class CatalogueRepo {
  private readonly filesStmt;
  private readonly shareFilesStmt;

  constructor(readonly db: Db) {
    // Ordered by the (area, path) unique index, so no sort step; BINARY order = UTF-8 byte order.
    this.filesStmt = db.prepare("SELECT path, kind, size, mtime_ms, dev, ino FROM entries WHERE area = 'files' AND path != '' AND path >= ? AND kind IN ('file', 'dir') ORDER BY path").raw(true);
    this.shareFilesStmt = db.prepare("SELECT substr(area, 7), path FROM entries WHERE kind = 'file' AND area >= 'share:' AND area < 'share;'").raw(true);
  }

  /** Every file and folder under files/, sorted by path; from `from` on (an incremental publish reads only a stretch). */
  filesSorted(from = ''): IterableIterator<CatalogueRow> {
    return this.filesStmt.iterate(from) as IterableIterator<CatalogueRow>;
  }

  /**
   * The file paths one device folder holds, sorted like filesSorted (BINARY = UTF-8 byte order).
   * One statement per call, so several devices can be read side by side in one merge.
   */
  deviceFilePaths(device: string, from = ''): IterableIterator<string> {
    return this.db.prepare("SELECT path FROM entries WHERE area = ? AND path >= ? AND kind = 'file' ORDER BY path").pluck().iterate(`device:${device}`, from) as IterableIterator<string>;
  }

  /** Whether an area (a device folder) holds any file. */
  areaHasFiles(area: string): boolean {
    return this.db.prepare("SELECT 1 FROM entries WHERE area = ? AND kind = 'file' LIMIT 1").pluck().get(area) !== undefined;
  }

  /** How far the NAS has read each device's worklist (bytes), so a device can tell "not read yet" from "finished long ago". */
  worklistOffsets(): Map<string, number> {
    const rows = this.db.prepare('SELECT device, byte_offset FROM worklist_offsets').raw(true).all() as Array<[string, number]>;
    return new Map(rows);
  }

  /** Every file in every share folder: [share id, path inside the share folder]. */
  shareFiles(): IterableIterator<[string, string]> {
    return this.shareFilesStmt.iterate() as IterableIterator<[string, string]>;
  }
}
