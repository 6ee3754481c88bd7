import type { Db } from './db.js';

export interface PinRow {
  device: string;
  path: string;
  created_at: number;
}

/** Folders (or files) pinned on a device: the balancer never evicts at or below them. */
export class PinsRepo {
  constructor(readonly db: Db) {}

  pin(device: string, path: string): boolean {
    return this.db.prepare('INSERT INTO pins (device, path, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(device, path, Date.now()).changes > 0;
  }

  unpin(device: string, path: string): boolean {
    return this.db.prepare('DELETE FROM pins WHERE device = ? AND path = ?').run(device, path).changes > 0;
  }

  list(device?: string): PinRow[] {
    return (device === undefined
      ? this.db.prepare('SELECT * FROM pins ORDER BY device, path').all()
      : this.db.prepare('SELECT * FROM pins WHERE device = ? ORDER BY path').all(device)) as PinRow[];
  }
}

/** Is `rel` at or below one of the pinned paths? ('' pins everything.) */
export function isPinned(pins: readonly string[], rel: string): boolean {
  return pins.some((p) => p === '' || rel === p || rel.startsWith(p + '/'));
}
