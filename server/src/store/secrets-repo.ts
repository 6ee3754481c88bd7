import type { Db } from './db.js';

export type SyncFolderKind = 'device' | 'share' | 'catalogue';

export interface SyncFolderRow {
  kind: SyncFolderKind;
  name: string;
  read_write: string;
  created_at: number;
}

export interface DeviceReportRow {
  device: string;
  limit_bytes: number | null;
  free_bytes: number | null;
  used_bytes: number | null;
  admin_quota_bytes: number | null;
  agent_version: string | null;
  reported_at: number;
}

const HOUR_MS = 3_600_000;
/** How far back the balancer looks for a device's room: a day, so a moment's full disk does not count. */
export const CAPACITY_WINDOW_HOURS = 24;

/** The folder secrets the NAS's sync engine serves (migration 004). Only the read-write secret is kept. */
export class SecretsRepo {
  constructor(readonly db: Db) {}

  get(kind: SyncFolderKind, name: string): SyncFolderRow | undefined {
    return this.db.prepare('SELECT * FROM sync_folders WHERE kind = ? AND name = ?').get(kind, name) as SyncFolderRow | undefined;
  }

  /** Insert unless present; returns the row that is stored (an existing secret is never replaced). */
  ensure(kind: SyncFolderKind, name: string, readWrite: string): SyncFolderRow {
    this.db.prepare('INSERT INTO sync_folders (kind, name, read_write, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (kind, name) DO NOTHING').run(kind, name, readWrite, Date.now());
    return this.get(kind, name)!;
  }

  /** Replace a folder's secret: only `nas join`, on a fresh NAS taking the group's catalogue identity. */
  replace(kind: SyncFolderKind, name: string, readWrite: string): void {
    this.db.prepare('INSERT INTO sync_folders (kind, name, read_write, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET read_write = excluded.read_write').run(kind, name, readWrite, Date.now());
  }

  remove(kind: SyncFolderKind, name: string): boolean {
    return this.db.prepare('DELETE FROM sync_folders WHERE kind = ? AND name = ?').run(kind, name).changes > 0;
  }

  list(kind?: SyncFolderKind): SyncFolderRow[] {
    return (kind
      ? this.db.prepare('SELECT * FROM sync_folders WHERE kind = ? ORDER BY name').all(kind)
      : this.db.prepare('SELECT * FROM sync_folders ORDER BY kind, name').all()) as SyncFolderRow[];
  }

  report(device: string): DeviceReportRow | undefined {
    return this.db.prepare('SELECT * FROM sync_device_reports WHERE device = ?').get(device) as DeviceReportRow | undefined;
  }

  /** Keep the agent's latest report, and its used + free as the highest room of this hour (migration 016). */
  saveReport(r: Omit<DeviceReportRow, 'reported_at'>, at = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO sync_device_reports (device, limit_bytes, free_bytes, used_bytes, admin_quota_bytes, agent_version, reported_at)
         VALUES (@device, @limit_bytes, @free_bytes, @used_bytes, @admin_quota_bytes, @agent_version, @reported_at)
         ON CONFLICT (device) DO UPDATE SET limit_bytes = excluded.limit_bytes, free_bytes = excluded.free_bytes,
           used_bytes = excluded.used_bytes, agent_version = excluded.agent_version, reported_at = excluded.reported_at`,
      )
      .run({ ...r, reported_at: at });
    if (r.used_bytes === null || r.free_bytes === null) return;
    const hour = Math.floor(at / HOUR_MS);
    this.db
      .prepare(
        `INSERT INTO device_capacity_hours (device, hour, capacity_bytes) VALUES (?, ?, ?)
         ON CONFLICT (device, hour) DO UPDATE SET capacity_bytes = MAX(capacity_bytes, excluded.capacity_bytes)`,
      )
      .run(r.device, hour, r.used_bytes + r.free_bytes);
    this.db.prepare('DELETE FROM device_capacity_hours WHERE device = ? AND hour < ?').run(r.device, hour - CAPACITY_WINDOW_HOURS);
  }
}
