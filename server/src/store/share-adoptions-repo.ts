import type { Db } from './db.js';

export interface ShareAdoptionRow {
  share_id: string;
  path: string;
  ino: number;
  bytes: number;
  adopted_at: number;
}

/** What friends wrote into a shared folder and the NAS took into files/: the share's use. */
export class ShareAdoptionsRepo {
  constructor(readonly db: Db) {}

  record(row: ShareAdoptionRow): void {
    this.db
      .prepare(`INSERT INTO share_adoptions (share_id, path, ino, bytes, adopted_at) VALUES (@share_id, @path, @ino, @bytes, @adopted_at)
        ON CONFLICT (share_id, path) DO UPDATE SET ino = excluded.ino, bytes = excluded.bytes, adopted_at = excluded.adopted_at`)
      .run(row);
  }

  list(shareId: string): ShareAdoptionRow[] {
    return this.db.prepare('SELECT * FROM share_adoptions WHERE share_id = ? ORDER BY path').all(shareId) as ShareAdoptionRow[];
  }
}
