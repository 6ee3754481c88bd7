import type { Db } from './db.js';

export interface HashJob {
  dev: number;
  ino: number;
  size: number;
  mtime_ms: number;
  path: string;
}

export interface HashResult {
  dev: number;
  ino: number;
  size: number;
  mtime_ms: number;
  partial: Buffer;
  full: Buffer | null;
}

/**
 * Content hashes per inode. A row is valid only while the inode's size and mtime match the
 * entry's; `pendingJobs` finds every files/ inode that has no valid hash yet.
 */
export class ContentsRepo {
  private readonly putStmt;
  private readonly pendingFullStmt;
  private readonly progressStmt;
  private readonly getStmt;

  constructor(readonly db: Db) {
    this.putStmt = db.prepare(`
      INSERT INTO contents (dev, ino, size, mtime_ms, partial_hash, full_hash, hashed_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (dev, ino) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, partial_hash = excluded.partial_hash,
        full_hash = coalesce(excluded.full_hash, CASE WHEN contents.size = excluded.size AND contents.mtime_ms = excluded.mtime_ms THEN contents.full_hash END),
        hashed_at = excluded.hashed_at`);
    // `+e.area` keeps SQLite off the (area, parent) index: walking the rowid range from the
    // cursor needs no sort, where the index made every page scan and sort the whole area.
    this.pendingFullStmt = db.prepare(`
        SELECT e.id, e.dev, e.ino, e.size, e.mtime_ms, e.path, e.nlink
        FROM entries e LEFT JOIN contents c ON c.dev = e.dev AND c.ino = e.ino
        WHERE +e.area = 'files' AND e.kind = 'file' AND e.id > ?
          AND (c.full_hash IS NULL OR c.size != e.size OR c.mtime_ms != e.mtime_ms)
        ORDER BY e.id LIMIT ?`);
    this.progressStmt = db.prepare(`
      SELECT count(*) AS files, coalesce(sum(e.size), 0) AS bytes,
        coalesce(sum(CASE WHEN c.full_hash IS NOT NULL AND c.size = e.size AND c.mtime_ms = e.mtime_ms THEN 1 ELSE 0 END), 0) AS hashed,
        coalesce(sum(CASE WHEN c.full_hash IS NOT NULL AND c.size = e.size AND c.mtime_ms = e.mtime_ms THEN e.size ELSE 0 END), 0) AS hashedBytes
      FROM entries e LEFT JOIN contents c ON c.dev = e.dev AND c.ino = e.ino
      WHERE e.area = 'files' AND e.kind = 'file'`);
    this.getStmt = db.prepare('SELECT * FROM contents WHERE dev = ? AND ino = ?');
  }

  put(r: HashResult): void {
    this.putStmt.run(r.dev, r.ino, r.size, r.mtime_ms, r.partial, r.full, Date.now());
  }

  /** Files whose full hash is missing or stale, after entry id `afterId` (a cursor), in id order. */
  pendingFull(afterId: number, limit: number): Array<HashJob & { id: number; nlink: number }> {
    return this.pendingFullStmt.all(afterId, limit) as Array<HashJob & { id: number; nlink: number }>;
  }

  get(dev: number, ino: number): { size: number; mtime_ms: number; partial_hash: Buffer | null; full_hash: Buffer | null } | undefined {
    return this.getStmt.get(dev, ino) as { size: number; mtime_ms: number; partial_hash: Buffer | null; full_hash: Buffer | null } | undefined;
  }

  progress(): { files: number; bytes: number; hashed: number; hashedBytes: number } {
    return this.progressStmt.get() as { files: number; bytes: number; hashed: number; hashedBytes: number };
  }
}
