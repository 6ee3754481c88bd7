import os from 'node:os';
import crypto from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Db } from './db.js';

/**
 * Statements prepared on first use: the jobs' tables come from migration 003, and a read-only
 * open of an older database (no migration) must not fail just because these repos exist.
 */
export function lazyStatements(db: Db): (sql: string) => Database.Statement {
  const cache = new Map<string, Database.Statement>();
  return (sql) => {
    let s = cache.get(sql);
    if (!s) cache.set(sql, (s = db.prepare(sql)));
    return s;
  };
}

export interface JobLockRow {
  name: string;
  pid: number;
  host: string;
  token: string;
  started_at: number;
}

/**
 * Job locks: one row per running job, taken in an immediate transaction so two processes
 * cannot both see "free". A row left by a process that died (kill -9) is stale and taken over.
 */
export class JobsRepo {
  private readonly sql;
  constructor(readonly db: Db) {
    this.sql = lazyStatements(db);
  }
  private get getStmt() {
    return this.sql('SELECT * FROM job_locks WHERE name = ?');
  }
  private get putStmt() {
    return this.sql(
      'INSERT INTO job_locks (name, pid, host, token, started_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, host = excluded.host, token = excluded.token, started_at = excluded.started_at',
    );
  }
  private get delStmt() {
    return this.sql('DELETE FROM job_locks WHERE name = ? AND token = ?');
  }

  /** Take the lock, or return who holds it. `isAlive` decides whether a holder's pid still runs. */
  tryAcquire(name: string, isAlive: (pid: number) => boolean): { token: string } | { heldBy: JobLockRow } {
    const take = this.db.transaction((): { token: string } | { heldBy: JobLockRow } => {
      const held = this.getStmt.get(name) as JobLockRow | undefined;
      if (held && (held.host !== os.hostname() || isAlive(held.pid))) return { heldBy: held };
      const token = crypto.randomBytes(8).toString('hex');
      this.putStmt.run(name, process.pid, os.hostname(), token, Date.now());
      return { token };
    });
    return take.immediate();
  }

  release(name: string, token: string): void {
    this.delStmt.run(name, token);
  }

  holder(name: string): JobLockRow | undefined {
    return this.getStmt.get(name) as JobLockRow | undefined;
  }
}
