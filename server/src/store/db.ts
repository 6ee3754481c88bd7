import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { errors } from '../errors.js';
import { repoPath } from '../util/repo-path.js';

export type Db = Database.Database;

/** Marks a SQLite file as Burrow's, so a foreign database is refused instead of migrated. */
export const APPLICATION_ID = 0x42727277; // "Brrw"

/** migrations/ at the repository root, found from both src/ (vitest) and dist/ (node). */
export function migrationsDir(): string {
  return repoPath('migrations');
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function readMigrations(dir = migrationsDir()): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f, sql: fs.readFileSync(path.join(dir, f), 'utf8') }));
}

/**
 * Open (creating if needed) the NAS database: WAL, foreign keys, busy timeout, then apply
 * pending migrations in one transaction. Refuses a foreign or corrupt file and a newer schema.
 */
export function openDb(file: string, opts: { readonly?: boolean; migrations?: Migration[] } = {}): Db {
  const exists = fs.existsSync(file);
  let db: Db;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_CANTOPEN') throw errors.rootMissing(path.dirname(path.dirname(file)));
    throw errors.dbCorrupt(file, err);
  }
  try {
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    const appId = db.pragma('application_id', { simple: true }) as number;
    const tables = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number;
    if (exists && appId !== APPLICATION_ID && (appId !== 0 || tables > 0)) throw errors.dbCorrupt(file);
    if (!opts.readonly) migrate(db, file, opts.migrations ?? readMigrations());
    return db;
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_NOTADB' || (err as { code?: string }).code === 'SQLITE_CORRUPT') throw errors.dbCorrupt(file, err);
    throw err;
  }
}

function migrate(db: Db, file: string, migrations: Migration[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const current = Math.max(0, ...applied);
  const known = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  if (current > known) throw errors.dbTooNew(file, current, known);
  // Every migration not yet recorded, in order (not just those above the newest one), so a
  // migration added with a lower number than one already applied is never skipped.
  const pending = migrations.filter((m) => !applied.has(m.version));
  if (pending.length === 0) return;
  const apply = db.transaction(() => {
    for (const m of pending) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    }
    db.pragma(`application_id = ${APPLICATION_ID}`);
  });
  apply();
}
