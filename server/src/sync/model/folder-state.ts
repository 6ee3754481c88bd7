/**
 * The state one synced folder shares between its parts (folder.ts wires them):
 * the index and its database (index-store.ts), the local scanner
 * (local-scan.ts), the index exchange with each peer (index-exchange.ts),
 * what to do with a concurrent version (conflict-resolution.ts), the block
 * puller (puller.ts), the block server (block-server.ts), a receive-only
 * folder's local changes (local-changes.ts) and the sync status (status.ts).
 * Its fields are the engine's internals: nothing outside model/ touches them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { MAX_PEERS } from '../protocol/index.js';
import type { Connection } from '../transport/index.js';
import type { WireRecord } from '../protocol/index.js';
import type { FolderKeys } from '../secrets/index.js';
import { SyncError } from '../errors.js';
import type { PlainRecord, SealedRecord } from './records.js';
import { META_DIR, type StatInfo } from './scanner.js';
import { BlockStore } from './blockstore.js';
import type { IndexDb } from './index-db.js';
import type { WriteBehind } from './write-behind.js';
import type { BlockTable, RecordTable } from './tables.js';
import type { Wanted } from './wanted.js';
import type { Link, RemoteIndex } from './link.js';
import { AnchoredDir, anchoredAt } from '../../anchored-fs/index.js';

export const O_READ_NOFOLLOW = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW;
export const TMP_REL = META_DIR + '/tmp';


export type FolderMode = 'send-receive' | 'send-only' | 'receive-only' | 'encrypted-storage';

export interface FileEvent {
  folderId: string;
  path: string;
  size: number;
  mtime: number;
  mode: number;
  /** Hex SHA-256 of the signed record: identifies this version. */
  version: string;
  /** Set when a local version was kept aside as a conflict copy. */
  conflictCopy?: string;
}
export interface FileDeletedEvent {
  folderId: string;
  path: string;
  version: string;
}
export interface LocalChange {
  path: string;
  change: 'modified' | 'deleted' | 'added';
}
export interface FolderSyncedEvent {
  folderId: string;
  peers: number;
}
export interface FolderErrorEvent {
  folderId: string;
  error: SyncError | Error;
  peer?: string;
}
export interface Progress {
  bytesDone: number;
  bytesLeft: number;
  filesLeft: number;
  /** Bytes per second over the last few seconds. */
  rate: number;
  inSync: boolean;
}

export type { Entry } from './entry.js';
export type { Want, HeldWant } from './wanted.js';
export type { RemoteIndex, Link } from './link.js';
export interface BlockRef {
  plain?: string; // base64 plaintext hash
  cipher: string; // base64 ciphertext hash
  cipherLen: number;
  plainLen: number;
}
export interface BlockQueueItem {
  ref: BlockRef;
  /** The want's own list (wanted.ts): a source found bad is dropped from it for every block still queued. */
  sources: Link[];
  tried: Set<Link>;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}
export interface Loc {
  path: string;
  off: number;
  len: number;
}

export const MAX_ACTIVE_FILES = 64;
export const LINK_MAX_BYTES = 32 * 1024 * 1024;
export const LINK_MAX_REQS = 256;
export const BLOCK_CONCURRENCY_PER_FILE = 16;
export const PEERS_INTERVAL_MS = 60_000;
export const PERMANENT_FS_ERRORS = new Set(['ENAMETOOLONG', 'EILSEQ', 'EINVAL', 'ESYMLINK']);
export const PEERS_PER_INTERVAL = MAX_PEERS;
/** The stat-only reconcile of a watched folder: a safety net for missed watcher events, not the way changes are found. */
export const RECONCILE_INTERVAL_MS = 60 * 60_000;

export interface FolderOptions {
  id: string;
  path: string;
  keys: FolderKeys;
  mode: FolderMode;
  device: string;
  stateFile: string;
  rescanIntervalMs?: number;
  watch?: boolean;
}

export interface FolderEvents {
  fileChanged: [FileEvent];
  fileDeleted: [FileDeletedEvent];
  folderSynced: [FolderSyncedEvent];
  error: [FolderErrorEvent];
  peers: [string[]];
  linkClosed: [Connection];
}

export abstract class FolderState extends EventEmitter<FolderEvents> {
  readonly id: string;
  readonly root: string;
  readonly keys: FolderKeys;
  readonly mode: FolderMode;
  readonly device: string;
  readonly stateFile: string;
  readonly plainLevel: boolean;
  readonly canPublish: boolean;
  readonly acceptsRemote: boolean;
  readonly store: BlockStore | null;
  /**
   * Every step inside the folder goes through this: it resolves the parent of a
   * name without following symlinks at the moment it acts, so `link -> /outside`
   * inside the folder can never make a record write, rename or delete outside.
   */
  readonly fsa: AnchoredDir;

  /** The index (set by load(), index-store.ts): in the database, with only recent changes in memory. */
  entries!: RecordTable;
  local!: WriteBehind<StatInfo>;
  /** The records of the versions still wanted, in the database until the puller starts them (wanted.ts). */
  need!: WriteBehind<WireRecord>;
  blocks!: BlockTable;
  db: IndexDb | null = null;
  /** Our index id: random, new whenever this index starts afresh (no state file). */
  indexId = '';
  remotes = new Map<string, RemoteIndex>();
  seq = 0;
  links = new Set<Link>();
  /** The versions still wanted (set by load(); wanted.ts). */
  wanted!: Wanted;
  /** Versions that failed in a way no retry can fix: never wanted again. */
  failedVersions = new Set<string>();
  active = 0;
  /** When saving the index first failed (a full disk), or null; see index-store.ts flush. */
  unsavedSince: number | null = null;
  lastSaveTry = 0;
  /** When a full disk was last reported by the puller (it says so once a minute). */
  lastDiskFullReport = 0;
  applying = new Set<string>();
  closed = false;
  scanning: Promise<void> | null = null;
  rescanAgain = false;
  rescanPaths = new Set<string>();
  scannedOnce = false;
  timers: NodeJS.Timeout[] = [];
  broadcastTimer: NodeJS.Timeout | null = null;
  saveTimer: NodeJS.Timeout | null = null;
  retryTimer: NodeJS.Timeout | null = null;
  watcherSub: { unsubscribe(): Promise<void> } | null = null;
  lastSynced = false;
  bytesDone = 0;
  rateSamples: Array<[number, number]> = [];
  blockQueue: BlockQueueItem[] = [];
  progressFlushers = new Set<() => Promise<void>>();
  readonly opts: FolderOptions;
  initialScan: Promise<void> = Promise.resolve();

  /** Announce index changes to the peers soon (index-exchange.ts; a hook, so the index store need not import the exchange). */
  abstract scheduleBroadcast(): void;

  constructor(opts: FolderOptions) {
    super();
    this.opts = opts;
    this.id = opts.id;
    this.root = path.resolve(opts.path);
    this.keys = opts.keys;
    this.mode = opts.mode;
    this.device = opts.device;
    this.stateFile = opts.stateFile;
    this.plainLevel = opts.mode !== 'encrypted-storage';
    if (this.plainLevel && !this.keys.content) {
      throw new SyncError('MODE_NOT_ALLOWED', `an encrypted secret can only be used with mode encrypted-storage, not ${opts.mode}`);
    }
    if ((opts.mode === 'send-receive' || opts.mode === 'send-only') && this.keys.level !== 'rw') {
      throw new SyncError('MODE_NOT_ALLOWED', `mode ${opts.mode} needs the read-write secret; use receive-only with a read-only secret`);
    }
    this.canPublish = this.keys.level === 'rw' && (opts.mode === 'send-receive' || opts.mode === 'send-only');
    this.acceptsRemote = opts.mode !== 'send-only';
    this.store = this.plainLevel ? null : new BlockStore(this.root);
    this.fsa = anchoredAt(this.root);
  }

  err(error: Error, peer?: string): void {
    if (this.listenerCount('error') > 0) this.emit('error', { folderId: this.id, error, ...(peer ? { peer } : {}) });
  }
}
