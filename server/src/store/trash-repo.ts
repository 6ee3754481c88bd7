import type { Db } from './db.js';

export interface TrashRow {
  id: string;
  original_path: string;
  kind: string;
  bytes: number;
  files: number;
  request_id: string | null;
  trashed_at: number;
  restored_at: number | null;
  emptied_at: number | null;
}

/** What destroy put in .burrow/trash/, so it can be listed, restored, or emptied after the retention time. */
export class TrashRepo {
  constructor(readonly db: Db) {}

  add(row: Omit<TrashRow, 'restored_at' | 'emptied_at'>): void {
    this.db
      .prepare(`INSERT OR IGNORE INTO trash (id, original_path, kind, bytes, files, request_id, trashed_at, restored_at, emptied_at)
        VALUES (@id, @original_path, @kind, @bytes, @files, @request_id, @trashed_at, NULL, NULL)`)
      .run(row);
  }

  get(id: string): TrashRow | undefined {
    return this.db.prepare('SELECT * FROM trash WHERE id = ?').get(id) as TrashRow | undefined;
  }

  /** Items still in the trash (neither restored nor emptied), oldest first. */
  present(): TrashRow[] {
    return this.db.prepare('SELECT * FROM trash WHERE restored_at IS NULL AND emptied_at IS NULL ORDER BY trashed_at, id').all() as TrashRow[];
  }

  markRestored(id: string, at = Date.now()): void {
    this.db.prepare('UPDATE trash SET restored_at = ? WHERE id = ?').run(at, id);
  }

  markEmptied(id: string, at = Date.now()): void {
    this.db.prepare('UPDATE trash SET emptied_at = ? WHERE id = ?').run(at, id);
  }
}
