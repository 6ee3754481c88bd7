import type { Db } from './db.js';

export interface MoveWaitRow {
  request_id: string;
  source: string;
  path: string;
  /** JSON array of device names. */
  targets: string;
  /** JSON array of paths relative to files/. */
  files: string;
  deadline_at: number;
  state: 'waiting' | 'done' | 'failed';
  reason: string | null;
  created_at: number;
  updated_at: number;
}

/** Moves that linked their targets and wait for them to hold the files before the source lets go. */
export class MoveWaitsRepo {
  constructor(readonly db: Db) {}

  add(row: { request_id: string; source: string; path: string; targets: string[]; files: string[]; deadline_at: number }, now = Date.now()): void {
    this.db
      .prepare(`INSERT OR IGNORE INTO move_waits (request_id, source, path, targets, files, deadline_at, state, reason, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, 'waiting', NULL, ?, ?)`)
      .run(row.request_id, row.source, row.path, JSON.stringify(row.targets), JSON.stringify(row.files), row.deadline_at, now, now);
  }

  get(requestId: string): MoveWaitRow | undefined {
    return this.db.prepare('SELECT * FROM move_waits WHERE request_id = ?').get(requestId) as MoveWaitRow | undefined;
  }

  waiting(): MoveWaitRow[] {
    return this.db.prepare("SELECT * FROM move_waits WHERE state = 'waiting' ORDER BY created_at, request_id").all() as MoveWaitRow[];
  }

  finish(requestId: string, state: 'done' | 'failed', reason: string | null, now = Date.now()): void {
    this.db.prepare("UPDATE move_waits SET state = ?, reason = ?, updated_at = ? WHERE request_id = ? AND state = 'waiting'").run(state, reason, now, requestId);
  }
}
