/**
 * The store: repositories over better-sqlite3, the only place in Burrow that writes SQL.
 * `openStore` gives every service the same set of repositories over one connection.
 */
import { openDb, type Db } from './db.js';
import { EntriesRepo } from './entries-repo.js';
import { ContentsRepo } from './contents-repo.js';
import { DevicesRepo } from './devices-repo.js';
import { KvRepo } from './kv-repo.js';

export interface Store {
  db: Db;
  entries: EntriesRepo;
  contents: ContentsRepo;
  devices: DevicesRepo;
  kv: KvRepo;
  /** Run fn in one transaction (nested calls become savepoints). */
  tx<T>(fn: () => T): T;
  close(): void;
}

export function openStore(dbFile: string, opts: { readonly?: boolean } = {}): Store {
  const db = openDb(dbFile, opts);
  return {
    db,
    entries: new EntriesRepo(db),
    contents: new ContentsRepo(db),
    devices: new DevicesRepo(db),
    kv: new KvRepo(db),
    tx: <T>(fn: () => T): T => db.transaction(fn)(),
    close: () => db.close(),
  };
}

export * from './entries-repo.js';
export * from './contents-repo.js';
export * from './devices-repo.js';
export { openDb, type Db } from './db.js';
