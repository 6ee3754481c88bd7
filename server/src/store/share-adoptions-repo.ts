import type { Db } from './db.js';

export interface ShareAdoptionRow {
  share_id: string;
  path: string;
  ino: number;
  bytes: number;
  adopted_at: number;
}

/** What friends wrote into a shared folder (received), and what the NAS took into files/ (the share's use). */
export class ShareAdoptionsRepo {
  constructor(readonly db: Db) {}

  record(row: ShareAdoptionRow): void {
    this.db
      .prepare(`INSERT INTO share_adoptions (share_id, path, ino, bytes, adopted_at) VALUES (@share_id, @path, @ino, @bytes, @adopted_at)
        ON CONFLICT (share_id, path) DO UPDATE SET ino = excluded.ino, bytes = excluded.bytes, adopted_at = excluded.adopted_at`)
      .run(row);
  }

  /** The sync engine wrote this file (inode) into shared/<shareId>/<path> from a friend. */
  recordReceived(shareId: string, rel: string, ino: number, at = Date.now()): void {
    this.db
      .prepare(`INSERT INTO share_received (share_id, path, ino, received_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (share_id, path) DO UPDATE SET ino = excluded.ino, received_at = excluded.received_at`)
      .run(shareId, rel, ino, at);
  }

  /** What friends wrote into the share, by path (relative to shared/<shareId>/). */
  received(shareId: string): Map<string, number> {
    const rows = this.db.prepare('SELECT path, ino FROM share_received WHERE share_id = ?').all(shareId) as Array<{ path: string; ino: number }>;
    return new Map(rows.map((r) => [r.path, r.ino]));
  }

  list(shareId: string): ShareAdoptionRow[] {
    return this.db.prepare('SELECT * FROM share_adoptions WHERE share_id = ? ORDER BY path').all(shareId) as ShareAdoptionRow[];
  }
}
