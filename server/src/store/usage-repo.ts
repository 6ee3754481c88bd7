import type { Db } from './db.js';
import { lazyStatements } from './jobs-repo.js';

export type UsageKind = 'got' | 'opened' | 'modified';

/** One file on a device as the balancer ranks it. */
export interface DeviceFileUse {
  path: string;
  size: number;
  mtime_ms: number;
  dev: number;
  ino: number;
  /** Latest of got/opened/modified, or null when nothing was ever recorded. */
  last_used: number | null;
}

/**
 * How a device uses its files (for the balancer's least-recently-used order) and how much it
 * holds. Usage is the sum of file sizes indexed under the device's area.
 */
export class UsageRepo {
  private readonly sql;
  constructor(readonly db: Db) {
    this.sql = lazyStatements(db);
  }

  private touchStmt(kind: UsageKind) {
    const col = `${kind}_at`;
    return this.sql(`INSERT INTO device_usage (device, path, ${col}) VALUES (?, ?, ?)
        ON CONFLICT (device, path) DO UPDATE SET ${col} = max(coalesce(${col}, 0), excluded.${col})`);
  }

  /** Record a use of `path` on `device` at `at` (ms); keeps the latest time per kind. */
  touch(device: string, path: string, at: number, kind: UsageKind = 'opened'): void {
    this.touchStmt(kind).run(device, path, at);
  }

  forget(device: string, path: string): void {
    this.sql('DELETE FROM device_usage WHERE device = ? AND path = ?').run(device, path);
  }

  get(device: string, path: string): { got_at: number | null; opened_at: number | null; modified_at: number | null } | undefined {
    return this.sql('SELECT got_at, opened_at, modified_at FROM device_usage WHERE device = ? AND path = ?').get(device, path) as { got_at: number | null; opened_at: number | null; modified_at: number | null } | undefined;
  }

  /** Bytes of files indexed under the device's area. */
  usedBytes(device: string): number {
    return this.sql("SELECT coalesce(sum(size), 0) FROM entries WHERE area = ? AND kind = 'file'").pluck().get(`device:${device}`) as number;
  }

  /** The device's files in eviction order (least recently used, then oldest). */
  evictionOrder(device: string): IterableIterator<DeviceFileUse> {
    // Least recently used first (never used = 0), then oldest content, then path for a stable order.
    return this.sql(`
      SELECT e.path, e.size, e.mtime_ms, e.dev, e.ino,
        nullif(max(coalesce(u.got_at, 0), coalesce(u.opened_at, 0), coalesce(u.modified_at, 0)), 0) AS last_used
      FROM entries e LEFT JOIN device_usage u ON u.device = ? AND u.path = e.path
      WHERE e.area = ? AND e.kind = 'file'
      ORDER BY coalesce(last_used, 0), e.mtime_ms, e.path`).iterate(device, `device:${device}`) as IterableIterator<DeviceFileUse>;
  }
}

/** Balancer history rows. */
export interface BalanceRunRow {
  id: number;
  device: string;
  at: number;
  dry_run: number;
  ok: number;
  needed: number;
  freed: number;
  evicted: string;
  reason: string | null;
}

export class BalanceHistoryRepo {
  constructor(readonly db: Db) {}
  add(r: { device: string; dryRun: boolean; ok: boolean; needed: number; freed: number; evicted: string[]; reason?: string | undefined }): void {
    this.db
      .prepare('INSERT INTO balance_runs (device, at, dry_run, ok, needed, freed, evicted, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(r.device, Date.now(), r.dryRun ? 1 : 0, r.ok ? 1 : 0, r.needed, r.freed, JSON.stringify(r.evicted), r.reason ?? null);
  }
  history(device?: string, limit = 30): BalanceRunRow[] {
    return (device === undefined
      ? this.db.prepare('SELECT * FROM balance_runs ORDER BY id DESC LIMIT ?').all(limit)
      : this.db.prepare('SELECT * FROM balance_runs WHERE device = ? ORDER BY id DESC LIMIT ?').all(device, limit)) as BalanceRunRow[];
  }
}
