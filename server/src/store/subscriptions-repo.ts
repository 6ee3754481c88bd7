import type { Db } from './db.js';
import { subtreeRange } from './entries-repo.js';

/**
 * Folder subscriptions (a device that got a folder also gets what is added to it later),
 * the paths a device deleted itself inside them (never relinked), and what each device link
 * pointed at when it was made (to tell a device's edit from a conflict).
 */
export class SubscriptionsRepo {
  private readonly stmts = new Map<string, import('better-sqlite3').Statement>();
  constructor(readonly db: Db) {}

  /** Statements are prepared once: a 10,000-file get records 10,000 links. */
  private q(sql: string): import('better-sqlite3').Statement {
    let st = this.stmts.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.stmts.set(sql, st);
    }
    return st;
  }

  add(device: string, path: string): void {
    this.q('INSERT OR IGNORE INTO subscriptions (device, path, created_at) VALUES (?, ?, ?)').run(device, path, Date.now());
  }

  /** Remove the subscription at `path` and every one below it. */
  removeUnder(device: string, path: string): void {
    const [lo, hi] = path === '' ? ['', '\uffff'] : subtreeRange(path);
    this.q('DELETE FROM subscriptions WHERE device = ? AND (path = ? OR (path >= ? AND path < ?))').run(device, path, lo, hi);
    this.q('DELETE FROM subscription_exclusions WHERE device = ? AND (path = ? OR (path >= ? AND path < ?))').run(device, path, lo, hi);
  }

  list(device?: string): Array<{ device: string; path: string }> {
    return (device === undefined
      ? this.q('SELECT device, path FROM subscriptions ORDER BY device, path').all()
      : this.q('SELECT device, path FROM subscriptions WHERE device = ? ORDER BY path').all(device)) as Array<{ device: string; path: string }>;
  }

  /** The devices subscribed to `path` or any folder above it. */
  subscribersOf(path: string): string[] {
    const ancestors = [''];
    let i = path.indexOf('/');
    while (i >= 0) {
      ancestors.push(path.slice(0, i));
      i = path.indexOf('/', i + 1);
    }
    ancestors.push(path);
    const q = `SELECT DISTINCT device FROM subscriptions WHERE path IN (${ancestors.map(() => '?').join(',')})`;
    return this.q(q).pluck().all(...ancestors) as string[];
  }

  exclude(device: string, path: string): void {
    this.q('INSERT OR IGNORE INTO subscription_exclusions (device, path, created_at) VALUES (?, ?, ?)').run(device, path, Date.now());
  }

  unexcludeUnder(device: string, path: string): void {
    const [lo, hi] = path === '' ? ['', '\uffff'] : subtreeRange(path);
    this.q('DELETE FROM subscription_exclusions WHERE device = ? AND (path = ? OR (path >= ? AND path < ?))').run(device, path, lo, hi);
  }

  isExcluded(device: string, path: string): boolean {
    return this.q('SELECT 1 FROM subscription_exclusions WHERE device = ? AND path = ?').get(device, path) !== undefined;
  }

  recordLink(device: string, path: string, ino: number, size: number, mtimeMs: number): void {
    this
      .q(`INSERT INTO device_links (device, path, ino, size, mtime_ms) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (device, path) DO UPDATE SET ino = excluded.ino, size = excluded.size, mtime_ms = excluded.mtime_ms`)
      .run(device, path, ino, size, mtimeMs);
  }

  linkOf(device: string, path: string): { ino: number; size: number; mtime_ms: number } | undefined {
    return this.q('SELECT ino, size, mtime_ms FROM device_links WHERE device = ? AND path = ?').get(device, path) as
      | { ino: number; size: number; mtime_ms: number }
      | undefined;
  }

  forgetLinksUnder(device: string, path: string): void {
    const [lo, hi] = path === '' ? ['', '\uffff'] : subtreeRange(path);
    this.q('DELETE FROM device_links WHERE device = ? AND (path = ? OR (path >= ? AND path < ?))').run(device, path, lo, hi);
  }
}
