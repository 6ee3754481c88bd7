import type { Db } from './db.js';

export interface DeviceRow {
  name: string;
  quota_bytes: number | null;
  created_at: number;
}

export class DevicesRepo {
  constructor(readonly db: Db) {}

  add(name: string, quotaBytes: number | null): DeviceRow {
    const row = { name, quota_bytes: quotaBytes, created_at: Date.now() };
    this.db.prepare('INSERT INTO devices (name, quota_bytes, created_at) VALUES (@name, @quota_bytes, @created_at)').run(row);
    return row;
  }

  get(name: string): DeviceRow | undefined {
    return this.db.prepare('SELECT * FROM devices WHERE name = ?').get(name) as DeviceRow | undefined;
  }

  list(): DeviceRow[] {
    return this.db.prepare('SELECT * FROM devices ORDER BY name').all() as DeviceRow[];
  }

  setQuota(name: string, quotaBytes: number | null): void {
    this.db.prepare('UPDATE devices SET quota_bytes = ? WHERE name = ?').run(quotaBytes, name);
  }
}
