/**
 * The store: repositories over better-sqlite3, the only place in Burrow that writes SQL.
 * `openStore` gives every service the same set of repositories over one connection.
 */
import { openDb, type Db } from './db.js';
import { EntriesRepo } from './entries-repo.js';
import { ContentsRepo } from './contents-repo.js';
import { DevicesRepo } from './devices-repo.js';
import { KvRepo } from './kv-repo.js';
import { DedupeRepo } from './dedupe-repo.js';
import { UsageRepo, BalanceHistoryRepo } from './usage-repo.js';
import { PinsRepo } from './pins-repo.js';
import { JobsRepo } from './jobs-repo.js';
import { MoveWaitsRepo } from './move-waits-repo.js';
import { ShareAdoptionsRepo } from './share-adoptions-repo.js';
import { SyncActivityRepo, AvailabilityRepo } from './activity-repo.js';

export interface Store {
  db: Db;
  entries: EntriesRepo;
  contents: ContentsRepo;
  devices: DevicesRepo;
  kv: KvRepo;
  dedupe: DedupeRepo;
  usage: UsageRepo;
  balanceHistory: BalanceHistoryRepo;
  pins: PinsRepo;
  jobs: JobsRepo;
  moveWaits: MoveWaitsRepo;
  shareAdoptions: ShareAdoptionsRepo;
  syncActivity: SyncActivityRepo;
  availability: AvailabilityRepo;
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
    dedupe: new DedupeRepo(db),
    usage: new UsageRepo(db),
    balanceHistory: new BalanceHistoryRepo(db),
    pins: new PinsRepo(db),
    jobs: new JobsRepo(db),
    moveWaits: new MoveWaitsRepo(db),
    shareAdoptions: new ShareAdoptionsRepo(db),
    syncActivity: new SyncActivityRepo(db),
    availability: new AvailabilityRepo(db),
    tx: <T>(fn: () => T): T => db.transaction(fn)(),
    close: () => db.close(),
  };
}

export * from './entries-repo.js';
export * from './contents-repo.js';
export * from './devices-repo.js';
export * from './dedupe-repo.js';
export * from './usage-repo.js';
export * from './pins-repo.js';
export * from './jobs-repo.js';
export * from './requests-repo.js';
export * from './journal-repo.js';
export * from './subscriptions-repo.js';
export * from './shares-repo.js';
export * from './trash-repo.js';
export * from './move-waits-repo.js';
export * from './share-adoptions-repo.js';
export * from './activity-repo.js';
export { openDb, type Db } from './db.js';
