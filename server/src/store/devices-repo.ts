import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import { CAPACITY_WINDOW_HOURS } from './secrets-repo.js';

export interface DeviceRow {
  name: string;
  /** The admin's limit (`device add|set --quota`); a device report never changes it. */
  quota_bytes: number | null;
  created_at: number;
  /** What the device's agent last reported (null before its first report). */
  reported_limit_bytes: number | null;
  reported_free_bytes: number | null;
  reported_used_bytes: number | null;
  reported_at: number | null;
  /** The most room (held + free) the agent reported in the day up to its last report (migration 016). */
  reported_capacity_bytes: number | null;
  /** The limit that applies: the smallest of the admin's limit, the agent's limit and the device's room. */
  effective_quota_bytes: number | null;
}

/**
 * The report can only lower the admin's limit, never raise or replace it. `capacity` is the
 * device's room over a day, not its free space of the moment: a disk full for a minute while the
 * nightly balance runs must not cost the user the files they got (soak finding 15).
 */
export function effectiveQuota(admin: number | null, reportedLimit: number | null, capacity: number | null): number | null {
  const caps = [admin, reportedLimit, capacity].filter((x): x is number => x !== null);
  return caps.length ? Math.min(...caps) : null;
}

type RawDevice = Omit<DeviceRow, 'effective_quota_bytes'>;
const withEffective = (r: RawDevice): DeviceRow => ({ ...r, effective_quota_bytes: effectiveQuota(r.quota_bytes, r.reported_limit_bytes, r.reported_capacity_bytes) });

const SELECT = `SELECT d.name, d.quota_bytes, d.created_at, r.limit_bytes AS reported_limit_bytes, r.free_bytes AS reported_free_bytes,
  r.used_bytes AS reported_used_bytes, r.reported_at AS reported_at,
  (SELECT MAX(c.capacity_bytes) FROM device_capacity_hours c
    WHERE c.device = d.name AND c.hour >= r.reported_at / 3600000 - ${CAPACITY_WINDOW_HOURS}) AS reported_capacity_bytes
  FROM devices d LEFT JOIN sync_device_reports r ON r.device = d.name`;

export class DevicesRepo {
  constructor(readonly db: Db) {}

  add(name: string, quotaBytes: number | null): DeviceRow {
    const row = { name, quota_bytes: quotaBytes, created_at: Date.now() };
    this.db.prepare('INSERT INTO devices (name, quota_bytes, created_at) VALUES (@name, @quota_bytes, @created_at)').run(row);
    return this.get(name)!;
  }

  // Prepared once: list() runs on every index change (requests/service.ts), thousands a second
  // while a member receives the store.
  private getStmt: Statement | undefined;
  private listStmt: Statement | undefined;

  get(name: string): DeviceRow | undefined {
    this.getStmt ??= this.db.prepare(`${SELECT} WHERE d.name = ?`);
    const r = this.getStmt.get(name) as RawDevice | undefined;
    return r ? withEffective(r) : undefined;
  }

  list(): DeviceRow[] {
    this.listStmt ??= this.db.prepare(`${SELECT} ORDER BY d.name`);
    return (this.listStmt.all() as RawDevice[]).map(withEffective);
  }

  /** The admin's limit; only `device add|set` call this. */
  setQuota(name: string, quotaBytes: number | null): void {
    this.db.prepare('UPDATE devices SET quota_bytes = ? WHERE name = ?').run(quotaBytes, name);
  }

  /**
   * Forget a device everywhere the database names it (remove-device's commit): its row, its
   * subscriptions, links, usage, pins, agent report, worklist offset, availability log and index entries. Its
   * pending requests fail with `reason`; finished requests stay as history.
   */
  removeEverywhere(name: string, reason: string, now = Date.now()): void {
    for (const table of ['subscriptions', 'subscription_exclusions', 'device_links', 'device_usage', 'pins', 'sync_device_reports', 'device_capacity_hours', 'worklist_offsets', 'device_availability'])
      this.db.prepare(`DELETE FROM ${table} WHERE device = ?`).run(name);
    // Its folder is in the trash now: the index forgets the whole area at once.
    this.db.prepare('DELETE FROM entries WHERE area = ?').run(`device:${name}`);
    this.db.prepare("UPDATE requests SET state = 'failed', reason = ?, updated_at = ? WHERE device = ? AND state = 'pending'").run(reason, now, name);
    this.db.prepare('DELETE FROM devices WHERE name = ?').run(name);
  }
}
