import type { Db } from './db.js';

export type RequestState = 'pending' | 'running' | 'done' | 'failed';

export interface RequestRow {
  id: string;
  device: string;
  action: string;
  path: string;
  args: string;
  confirm: number;
  source: string;
  state: RequestState;
  reason: string | null;
  result: string | null;
  created_at: number;
  updated_at: number;
}

/** Requests by their client-made id, and how far each device's worklist has been read. */
export class RequestsRepo {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly setStateStmt;
  private readonly recentStmt;
  private readonly recentOpenStmt;
  private readonly openStmt;
  private readonly offsetGetStmt;
  private readonly offsetSetStmt;

  constructor(readonly db: Db) {
    this.insertStmt = db.prepare(`INSERT OR IGNORE INTO requests (id, device, action, path, args, confirm, source, state, reason, result, created_at, updated_at)
      VALUES (@id, @device, @action, @path, @args, @confirm, @source, @state, @reason, @result, @created_at, @updated_at)`);
    this.getStmt = db.prepare('SELECT * FROM requests WHERE id = ?');
    this.setStateStmt = db.prepare('UPDATE requests SET state = ?, reason = ?, result = ?, updated_at = ? WHERE id = ?');
    // Pending and running first, then newest; failed automatic requests stay visible, done ones do not.
    // Two queries that each walk the (device, updated_at) index from the newest row and stop at the
    // limit: one ORDER BY over every row of a device sorted all of them (seconds once a flooded
    // worklist had left 100,000 rows), on every publish.
    this.recentOpenStmt = db.prepare(`SELECT * FROM requests INDEXED BY requests_device_open WHERE device = ? AND state IN ('pending', 'running') AND source != 'auto'
      ORDER BY updated_at DESC, id LIMIT ?`);
    this.recentStmt = db.prepare(`SELECT * FROM requests WHERE device = ? AND state NOT IN ('pending', 'running') AND (source != 'auto' OR state = 'failed')
      ORDER BY updated_at DESC, id LIMIT ?`);
    this.openStmt = db.prepare("SELECT * FROM requests WHERE state IN ('pending', 'running') ORDER BY created_at, id");
    this.offsetGetStmt = db.prepare('SELECT * FROM worklist_offsets WHERE device = ?');
    this.offsetSetStmt = db.prepare(`INSERT INTO worklist_offsets (device, byte_offset, ino, head_hash, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (device) DO UPDATE SET byte_offset = excluded.byte_offset, ino = excluded.ino, head_hash = excluded.head_hash, updated_at = excluded.updated_at`);
  }

  /** Insert a new request; false when the id is already known (it then runs only once). */
  insert(row: RequestRow): boolean {
    return this.insertStmt.run(row).changes === 1;
  }

  get(id: string): RequestRow | undefined {
    return this.getStmt.get(id) as RequestRow | undefined;
  }

  setState(id: string, state: RequestState, reason: string | null, result: string | null, now = Date.now()): void {
    this.setStateStmt.run(state, reason, result, now, id);
  }

  recentForDevice(device: string, limit: number): RequestRow[] {
    const open = this.recentOpenStmt.all(device, limit) as RequestRow[];
    return open.length >= limit ? open : open.concat(this.recentStmt.all(device, limit - open.length) as RequestRow[]);
  }

  unfinished(): RequestRow[] {
    return this.openStmt.all() as RequestRow[];
  }

  offsetOf(device: string): { byte_offset: number; ino: number; head_hash: string } | undefined {
    return this.offsetGetStmt.get(device) as { byte_offset: number; ino: number; head_hash: string } | undefined;
  }

  setOffset(device: string, offset: number, ino: number, headHash: string): void {
    this.offsetSetStmt.run(device, offset, ino, headHash, Date.now());
  }
}
