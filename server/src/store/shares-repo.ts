import type { Db } from './db.js';

export interface ShareRow {
  id: string;
  kind: 'file' | 'folder';
  source_path: string;
  limit_mb: number | null;
  state: 'active' | 'revoked';
  revoked_to: string | null;
  created_by: string;
  created_at: number;
  revoked_at: number | null;
}

/** Shares: one folder under shared/ each, revoked separately. */
export class SharesRepo {
  constructor(readonly db: Db) {}

  add(row: Omit<ShareRow, 'state' | 'revoked_to' | 'revoked_at'>): void {
    this.db
      .prepare(`INSERT OR IGNORE INTO shares (id, kind, source_path, limit_mb, state, revoked_to, created_by, created_at, revoked_at)
        VALUES (@id, @kind, @source_path, @limit_mb, 'active', NULL, @created_by, @created_at, NULL)`)
      .run(row);
  }

  get(id: string): ShareRow | undefined {
    return this.db.prepare('SELECT * FROM shares WHERE id = ?').get(id) as ShareRow | undefined;
  }

  revoke(id: string, revokedTo: string | null, at = Date.now()): void {
    this.db.prepare("UPDATE shares SET state = 'revoked', revoked_to = ?, revoked_at = ? WHERE id = ?").run(revokedTo, at, id);
  }

  list(opts: { active?: boolean; sourcePath?: string } = {}): ShareRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (opts.active) where.push("state = 'active'");
    if (opts.sourcePath !== undefined) {
      where.push('source_path = ?');
      params.push(opts.sourcePath);
    }
    return this.db.prepare(`SELECT * FROM shares ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, id`).all(...params) as ShareRow[];
  }
}
