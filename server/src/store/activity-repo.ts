import type { Db } from './db.js';

export interface ActivityMinute {
  minute: number;
  bytesIn: number;
  bytesOut: number;
}

/** sync_activity: bytes the sync engine moved, per folder and minute. */
export class SyncActivityRepo {
  constructor(readonly db: Db) {}

  /** Add bytes to a folder's minute (several samples in one minute add up). */
  add(minute: number, folder: string, bytesIn: number, bytesOut: number): void {
    this.db
      .prepare(
        `INSERT INTO sync_activity (minute, folder, bytes_in, bytes_out) VALUES (?, ?, ?, ?)
         ON CONFLICT (minute, folder) DO UPDATE SET bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out`,
      )
      .run(minute, folder, bytesIn, bytesOut);
  }

  /** Every folder summed, per minute, from `since` (ms) on; minutes without traffic are absent. */
  perMinute(since: number, folder?: string): ActivityMinute[] {
    const rows = (
      folder === undefined
        ? this.db.prepare('SELECT minute, SUM(bytes_in) AS i, SUM(bytes_out) AS o FROM sync_activity WHERE minute >= ? GROUP BY minute ORDER BY minute').all(since)
        : this.db.prepare('SELECT minute, bytes_in AS i, bytes_out AS o FROM sync_activity WHERE minute >= ? AND folder = ? ORDER BY minute').all(since, folder)
    ) as Array<{ minute: number; i: number; o: number }>;
    return rows.map((r) => ({ minute: r.minute, bytesIn: r.i, bytesOut: r.o }));
  }

  prune(before: number): number {
    return this.db.prepare('DELETE FROM sync_activity WHERE minute < ?').run(before).changes;
  }
}

export interface AvailabilitySpan {
  device: string;
  from: number;
  to: number;
}

/** device_availability: when each device was reachable, as spans. */
export class AvailabilityRepo {
  constructor(readonly db: Db) {}

  /**
   * The device was reachable at `at`: extend its latest span if that ended less than `gapMs`
   * before, else open a new one. So a device seen every minute costs one row per stretch.
   */
  seen(device: string, at: number, gapMs: number): void {
    const last = this.db.prepare('SELECT from_at, to_at FROM device_availability WHERE device = ? ORDER BY from_at DESC LIMIT 1').get(device) as { from_at: number; to_at: number } | undefined;
    if (last && at <= last.to_at) return;
    if (last && at - last.to_at <= gapMs) this.db.prepare('UPDATE device_availability SET to_at = ? WHERE device = ? AND from_at = ?').run(at, device, last.from_at);
    else this.db.prepare('INSERT OR IGNORE INTO device_availability (device, from_at, to_at) VALUES (?, ?, ?)').run(device, at, at);
  }

  spans(device: string | undefined, since: number): AvailabilitySpan[] {
    const rows = (
      device === undefined
        ? this.db.prepare('SELECT device, from_at, to_at FROM device_availability WHERE to_at >= ? ORDER BY device, from_at').all(since)
        : this.db.prepare('SELECT device, from_at, to_at FROM device_availability WHERE device = ? AND to_at >= ? ORDER BY from_at').all(device, since)
    ) as Array<{ device: string; from_at: number; to_at: number }>;
    return rows.map((r) => ({ device: r.device, from: r.from_at, to: r.to_at }));
  }

  prune(before: number): number {
    return this.db.prepare('DELETE FROM device_availability WHERE to_at < ?').run(before).changes;
  }

  forget(device: string): void {
    this.db.prepare('DELETE FROM device_availability WHERE device = ?').run(device);
  }
}
