import type { Db } from './db.js';

/** Small named values (last scan time, counters) that need no table of their own. */
export class KvRepo {
  constructor(readonly db: Db) {}
  get(key: string): string | undefined {
    return this.db.prepare('SELECT value FROM kv WHERE key = ?').pluck().get(key) as string | undefined;
  }
  set(key: string, value: string): void {
    this.db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }
}
