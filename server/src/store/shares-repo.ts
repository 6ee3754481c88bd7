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
  /** Why a share stopped without being revoked (e.g. 'file destroyed'): it then shows as "ended: <reason>". */
  end_reason: string | null;
}

/** A share's state as people read it: "active", "revoked", or "ended: <why>". */
export function shareStateText(s: ShareRow): string {
  return s.state === 'revoked' && s.end_reason ? `ended: ${s.end_reason}` : s.state;
}

/** Shares: one folder under shared/ each, revoked separately. */
export class SharesRepo {
  constructor(readonly db: Db) {}

  add(row: Omit<ShareRow, 'state' | 'revoked_to' | 'revoked_at' | 'end_reason'>): void {
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

  /** Stop a share because what it shared is gone (no new folder, no new secrets). */
  end(id: string, reason: string, at = Date.now()): void {
    this.db.prepare("UPDATE shares SET state = 'revoked', end_reason = ?, revoked_at = ? WHERE id = ? AND state = 'active'").run(reason, at, id);
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
