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

  saveReport(r: Omit<DeviceReportRow, 'reported_at'>): void {
    this.db
      .prepare(
        `INSERT INTO sync_device_reports (device, limit_bytes, free_bytes, used_bytes, admin_quota_bytes, agent_version, reported_at)
         VALUES (@device, @limit_bytes, @free_bytes, @used_bytes, @admin_quota_bytes, @agent_version, @reported_at)
         ON CONFLICT (device) DO UPDATE SET limit_bytes = excluded.limit_bytes, free_bytes = excluded.free_bytes,
           used_bytes = excluded.used_bytes, agent_version = excluded.agent_version, reported_at = excluded.reported_at`,
      )
      .run({ ...r, reported_at: Date.now() });
  }
}
