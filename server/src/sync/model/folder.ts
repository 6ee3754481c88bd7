/**
 * One synced folder: its index of signed records, the scanner that turns
 * local edits into records (read-write only), the index exchange with each
 * connected peer, the block puller (several peers at once, local blocks
 * reused, temp file + rename, resumable) and the block server. The folder
 * mode decides what it may do: send-receive, send-only, receive-only, or
 * encrypted-storage (ciphertext blocks and sealed records only). The index
 * lives in the folder's own SQLite database (index-db.ts), saved in batches.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { BlockKind, MAX_PEERS, MsgType, RespStatus, type IndexStartMsg, type Message, type WireRecord } from '../protocol/index.js';
import type { Connection } from '../transport/index.js';
import type { FolderKeys } from '../secrets/index.js';
import { SyncError } from '../errors.js';
import {
  conflictName,
  decryptBlock,
  encryptBlock,
  makeRecord,
  openRecord,
  pickWinner,
  verifyRecord,
  vvBump,
  vvCompare,
  type PlainRecord,
  type SealedRecord,
} from './records.js';
import { META_DIR, hashFile, walk, type StatInfo } from './scanner.js';
import { BlockStore } from './blockstore.js';
import { IndexDb, TrackedMap, type SaveBatch } from './index-db.js';
import { AnchoredDir, anchoredAt } from '../../anchored-fs/index.js';

/** How far past the saved sequence a loaded index goes on (more than can be announced between two saves). */
const SEQ_GAP_AFTER_LOAD = 1_000_000_000;
const O_READ_NOFOLLOW = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW;
const TMP_REL = META_DIR + '/tmp';

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

interface Entry {
  s: SealedRecord;
  p?: PlainRecord;
  seq: number;
}
/**
 * What we hold of one peer's index (Syncthing's index id + max sequence): the
 * peer's index id, the highest of its sequences whose records we have fully
 * dealt with, and which version of each record it announced. Kept across
 * connections and restarts, so a reconnect exchanges only what changed.
 */
interface RemoteIndex {
  index: string;
  seq: number;
  have: TrackedMap<string, string>;
}
interface Link {
  conn: Connection;
  have: Map<string, string>;
  /** Set once the peer's IndexStart arrived: what we remember of its index. */
  remote: RemoteIndex | null;
  /** The highest sequence of the peer's index it says we now hold (from its Index messages). */
  recvSeq: number;
  fullIndex: boolean;
  sentIdx: number;
  inflightBytes: number;
  inflightCount: number;
  reqs: Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void; size: number }>;
  nextReq: number;
  bad: number;
  ready: boolean;
  finalSent: boolean;
  /** Addresses this peer may still suggest (a token bucket, see PEERS_PER_INTERVAL). */
  peersBudget: number;
  peersAt: number;
}
interface Want {
  s: SealedRecord;
  p?: PlainRecord;
  sources: Set<Link>;
  keepLocal: boolean;
  /** Hash of our entry when keepLocal was decided; a later local scan means deciding again. */
  base: string | undefined;
  active: boolean;
  retryAt: number;
  doneBytes: number;
}
interface BlockRef {
  plain?: string; // base64 plaintext hash
  cipher: string; // base64 ciphertext hash
  cipherLen: number;
  plainLen: number;
}
interface Loc {
  path: string;
  off: number;
  len: number;
}

const MAX_ACTIVE_FILES = 64;
const LINK_MAX_BYTES = 32 * 1024 * 1024;
const LINK_MAX_REQS = 256;
const BLOCK_CONCURRENCY_PER_FILE = 16;
const PEERS_INTERVAL_MS = 60_000;
const PERMANENT_FS_ERRORS = new Set(['ENAMETOOLONG', 'EILSEQ', 'EINVAL', 'ESYMLINK']);
const PEERS_PER_INTERVAL = MAX_PEERS;
/** The stat-only reconcile of a watched folder: a safety net for missed watcher events, not the way changes are found. */
const RECONCILE_INTERVAL_MS = 60 * 60_000;

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

export class Folder extends EventEmitter<FolderEvents> {
  readonly id: string;
  readonly root: string;
  readonly keys: FolderKeys;
  readonly mode: FolderMode;
  readonly device: string;
  private readonly stateFile: string;
  private readonly plainLevel: boolean;
  private readonly canPublish: boolean;
  private readonly acceptsRemote: boolean;
  private readonly store: BlockStore | null;
  /**
   * Every step inside the folder goes through this: it resolves the parent of a
   * name without following symlinks at the moment it acts, so `link -> /outside`
   * inside the folder can never make a record write, rename or delete outside.
   */
  private readonly fsa: AnchoredDir;

  private entries = new TrackedMap<string, Entry>();
  private db: IndexDb | null = null;
  /** Peers whose index started afresh since the last save: their stored rows go. */
  private resetPeers = new Set<string>();
  /** Our index id: random, new whenever this index starts afresh (no state file). */
  private indexId = '';
  private remotes = new Map<string, RemoteIndex>();
  private byPath = new Map<string, string>();
  private local = new TrackedMap<string, StatInfo>();
  private log: string[] = [];
  private seq = 0;
  private blockIndex = new Map<string, Loc>();
  private cipherIndex = new Map<string, Loc & { plain: string }>();
  links = new Set<Link>();
  private wanted = new Map<string, Want>();
  /** Versions that failed in a way no retry can fix: never wanted again. */
  private failedVersions = new Set<string>();
  private active = 0;
  private applying = new Set<string>();
  private closed = false;
  private scanning: Promise<void> | null = null;
  private rescanAgain = false;
  private rescanPaths = new Set<string>();
  private scannedOnce = false;
  private timers: NodeJS.Timeout[] = [];
  private broadcastTimer: NodeJS.Timeout | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private watcherSub: { unsubscribe(): Promise<void> } | null = null;
  private lastSynced = false;
  private bytesDone = 0;
  private rateSamples: Array<[number, number]> = [];
  private blockQueue: Array<{ ref: BlockRef; sources: Set<Link>; tried: Set<Link>; resolve: (b: Buffer) => void; reject: (e: Error) => void }> = [];
  private progressFlushers = new Set<() => Promise<void>>();
  private readonly opts: FolderOptions;

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

  private err(error: Error, peer?: string): void {
    if (this.listenerCount('error') > 0) this.emit('error', { folderId: this.id, error, ...(peer ? { peer } : {}) });
  }

  /* ================= lifecycle ================= */

  async open(): Promise<void> {
    await fs.promises.mkdir(this.root, { recursive: true });
    // The engine's own temp folder must be a real folder (mkdirp refuses a symlink on the way).
    if (this.plainLevel) this.fsa.mkdirp(TMP_REL);
    await this.load();
    this.timers.push(setInterval(() => this.sampleRate(), 1000));
    if (this.canPublish) {
      const watching = this.opts.watch !== false && (await this.startWatcher());
      // The watcher reports what changes; the full walk (stat only: a file is hashed
      // again only if its size, mtime, inode or mode changed) runs at start and then
      // rarely, to catch what a watcher can miss. Without a watcher, every minute.
      const iv = this.opts.rescanIntervalMs ?? (watching ? RECONCILE_INTERVAL_MS : 60_000);
      if (iv > 0) this.timers.push(setInterval(() => void this.scan(), iv));
      // The first scan runs in the background: peers may connect and pull what
      // is already hashed. The final index flag waits for it (see sendFinal).
      this.initialScan = this.scan().then(() => {
        this.scannedOnce = true;
        this.broadcast();
        for (const l of this.links) this.sendFinal(l);
        this.pump();
        this.checkSynced();
      });
    } else this.scannedOnce = true;
  }

  /** Resolves when the first full scan is done (immediately for non-publishing folders). */
  whenScanned(): Promise<void> {
    return this.initialScan;
  }
  private initialScan: Promise<void> = Promise.resolve();

  private sendFinal(link: Link): void {
    if (link.finalSent || !link.ready || link.conn.closed) return;
    link.finalSent = true;
    link.conn.send({ type: MsgType.Index, final: true, seq: this.seq, records: [] });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    if (this.broadcastTimer) clearTimeout(this.broadcastTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const l of [...this.links]) l.conn.destroy(new SyncError('CLOSED', 'folder removed'));
    for (const q of this.blockQueue.splice(0)) q.reject(new SyncError('CLOSED', 'folder closed'));
    if (this.watcherSub) await this.watcherSub.unsubscribe().catch(() => undefined);
    await Promise.all([...this.progressFlushers].map((f) => f().catch(() => undefined)));
    if (this.saveTimer) clearTimeout(this.saveTimer);
    await this.save();
    this.db?.close();
    this.db = null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Start the file watcher; false if none is available on this system. */
  private async startWatcher(): Promise<boolean> {
    try {
      const watcher = await import('@parcel/watcher');
      let t: NodeJS.Timeout | null = null;
      let pending: Set<string> | null = new Set();
      this.watcherSub = await watcher.subscribe(
        this.root,
        (err, events) => {
          if (err || !pending || events.length > 2000) pending = null;
          else for (const ev of events) pending.add(ev.path);
          if (pending && pending.size > 2000) pending = null;
          if (t) clearTimeout(t);
          t = setTimeout(() => {
            const set = pending;
            pending = new Set();
            if (set) void this.scan([...set]);
            else void this.scan();
          }, 20);
        },
        // An absolute path: a bare name would also hide user folders of that name deeper down.
        { ignore: [path.join(this.root, META_DIR)] },
      );
      return true;
    } catch (e) {
      this.err(new SyncError('IO', 'file watcher unavailable, relying on periodic rescans: ' + (e as Error).message));
      return false;
    }
  }

  /* ================= state ================= */

  private get dbFile(): string {
    return this.stateFile.replace(/\.json$/, '') + '.db';
  }

  private async load(): Promise<void> {
    // A fresh index id unless a saved index (with its sequences) is read below.
    this.indexId = crypto.randomBytes(8).toString('hex');
    const db = IndexDb.open(this.dbFile);
    this.db = db;
    const meta = db.meta();
    if (!meta) {
      // First start with a database: import a JSON state file of an earlier version once.
      await this.loadJson();
      if (this.entries.size || this.local.size) {
        await this.save();
        await fs.promises.unlink(this.stateFile).catch(() => undefined);
      }
      return;
    }
    for (const r of db.records()) {
      try {
        // Every record was verified before it was saved; the database is the engine's own (owner-only).
        const sealed = verifyRecord(this.keys, { body: r.body, sig: r.sig }, { trusted: true });
        const p = this.plainLevel ? openRecord(this.keys, sealed) : undefined;
        this.seq = r.seq - 1;
        this.install(sealed, p, false);
      } catch (e) {
        this.err(e as Error);
      }
    }
    for (const l of db.local()) this.local.set(l.path, { size: l.size, mtime: l.mtime, ino: l.ino, mode: l.mode });
    this.indexId = meta.index;
    // Sequences are announced at once but saved a few seconds later (scheduleSave), so after a
    // crash peers may have seen numbers the database never got. Reusing them would hide new
    // records from a peer that asks for "what is newer than what I saw": start well past them
    // (and save that start at once, below).
    this.seq = Math.max(this.seq, meta.seq) + SEQ_GAP_AFTER_LOAD;
    for (const pr of db.peers()) {
      const have = new TrackedMap<string, string>();
      for (const h of db.have(pr.device)) have.set(h.id, h.hash);
      have.dirty.clear();
      this.remotes.set(pr.device, { index: pr.index, seq: pr.seq, have });
    }
    this.entries.dirty.clear();
    this.local.dirty.clear();
    // Saved before anything is announced, so the next load (after a crash too) starts past it.
    db.save({ index: this.indexId, seq: this.seq, records: [], local: [], peers: [], resetPeers: [], have: [] });
  }

  /** The JSON state file of protocol 2 and 3 before the database (read once, then removed). */
  private async loadJson(): Promise<void> {
    let raw: string;
    try {
      raw = await fs.promises.readFile(this.stateFile, 'utf8');
    } catch {
      return;
    }
    const st = JSON.parse(raw) as SavedState;
    const sequenced = st.v === 2 && typeof st.index === 'string' && /^[0-9a-f]{16}$/.test(st.index);
    // Entries are saved in sequence order, so installing them in order keeps each one's sequence.
    for (const [b, s, seq] of st.entries) {
      try {
        // Every record was verified before it was saved; the state file is the engine's own (owner-only).
        const sealed = verifyRecord(this.keys, { body: Buffer.from(b, 'base64'), sig: Buffer.from(s, 'base64') }, { trusted: true });
        const p = this.plainLevel ? openRecord(this.keys, sealed) : undefined;
        if (sequenced && typeof seq === 'number' && seq > this.seq) this.seq = seq - 1;
        this.install(sealed, p, false);
      } catch (e) {
        this.err(e as Error);
      }
    }
    for (const [p, size, mtime, ino, mode] of st.local ?? []) this.local.set(p, { size, mtime, ino, mode });
    if (!sequenced) return; // a version 1 state: peers remember nothing of it
    this.indexId = st.index!;
    this.seq = Math.max(this.seq, st.seq ?? 0);
    for (const [device, r] of Object.entries(st.peers ?? {})) {
      const have = new TrackedMap<string, string>();
      for (const [id, h] of r.have) {
        const hash = h || this.entries.get(id)?.s.hash;
        if (hash) have.set(id, hash);
      }
      this.remotes.set(device, { index: r.index, seq: r.seq, have });
    }
  }

  private scheduleSave(): void {
    if (this.saveTimer || this.closed) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.save().catch((e) => this.err(e as Error));
    }, 3000);
  }

  /** Write what changed since the last save (records, stat cache, peers' indexes) in one transaction. */
  private async save(): Promise<void> {
    const db = this.db;
    if (!db) return;
    for (const l of this.links) if (l.remote && this.doneWith(l)) l.remote.seq = Math.max(l.remote.seq, l.recvSeq);
    const batch: SaveBatch = { index: this.indexId, seq: this.seq, records: [], local: [], peers: [], resetPeers: [...this.resetPeers], have: [] };
    for (const id of this.entries.dirty) {
      const e = this.entries.get(id);
      batch.records.push(e ? { id, seq: e.seq, body: e.s.body, sig: e.s.sig } : { id, deleted: true });
    }
    for (const p of this.local.dirty) batch.local.push([p, this.local.get(p)]);
    for (const [device, r] of this.remotes) {
      batch.peers.push({ device, index: r.index, seq: r.seq });
      for (const id of r.have.dirty) batch.have.push([device, id, r.have.get(id)]);
    }
    db.save(batch);
    this.entries.dirty.clear();
    this.local.dirty.clear();
    for (const r of this.remotes.values()) r.have.dirty.clear();
    this.resetPeers.clear();
  }

  /**
   * Whether every record this peer sent has been dealt with (applied, or
   * decided against): only then may its sequence be remembered, since the
   * versions we still want live in memory only and a delta would not resend them.
   */
  private doneWith(link: Link): boolean {
    for (const w of this.wanted.values()) {
      if (w.sources.has(link)) return false;
      const next = (w as Want & { next?: Want }).next;
      if (next?.sources.has(link)) return false;
    }
    return true;
  }

  /** Put a verified record into the index. */
  private install(s: SealedRecord, p: PlainRecord | undefined, announce = true): void {
    const prev = this.entries.get(s.id);
    if (prev?.p && prev.p.path !== p?.path) this.byPath.delete(prev.p.path);
    const e: Entry = { s, seq: ++this.seq };
    if (p) e.p = p;
    this.entries.set(s.id, e);
    this.log.push(s.id);
    if (p) {
      this.byPath.set(p.path, s.id);
      if (!p.del) {
        for (let i = 0; i < p.blocks.length; i++) {
          const off = i * p.bs;
          const len = Math.min(p.bs, p.size - off);
          const loc = { path: p.path, off, len };
          this.blockIndex.set(p.blocks[i]!, loc);
          this.cipherIndex.set(s.blocks[i]![0], { ...loc, plain: p.blocks[i]! });
        }
      }
    }
    if (announce) {
      this.scheduleBroadcast();
      this.scheduleSave();
    }
  }

  /* ================= scanning (read-write publishers) ================= */

  /** Scan the whole folder, or only the given absolute paths (from the watcher). */
  scan(only?: string[]): Promise<void> {
    if (!this.canPublish || this.closed) return Promise.resolve();
    if (only) for (const p of only) this.rescanPaths.add(p);
    else this.rescanAgain = true;
    if (this.scanning) return this.scanning;
    this.scanning = (async () => {
      while ((this.rescanAgain || this.rescanPaths.size) && !this.closed) {
        const full = this.rescanAgain;
        const paths = [...this.rescanPaths];
        this.rescanAgain = false;
        this.rescanPaths.clear();
        await this.scanOnce(full ? undefined : paths).catch((e) => this.err(e as Error));
      }
    })().finally(() => {
      this.scanning = null;
      if ((this.rescanAgain || this.rescanPaths.size) && !this.closed) void this.scan([]);
      this.checkSynced();
    });
    return this.scanning;
  }

  private async scanOnce(only?: string[]): Promise<void> {
    // Entries installed after this point (received while we scan) were not
    // seen by our stats: never treat them as locally changed or deleted.
    const startSeq = this.seq;
    let files: Map<string, StatInfo>;
    let subset: Set<string> | null = null;
    if (only) {
      // Targeted scan: the changed paths (files, or directories: walk those).
      files = new Map();
      subset = new Set();
      for (const abs of only) {
        const rel = path.relative(this.root, abs).split(path.sep).join('/');
        if (!rel || rel.startsWith('..') || rel === META_DIR || rel.startsWith(META_DIR + '/')) continue;
        let st: fs.Stats | null = null;
        try {
          st = this.fsa.lstat(rel) ?? null; // a symlink on the way: as if missing
        } catch {
          st = null;
        }
        if (st?.isDirectory()) {
          for (const [r, s2] of await walk(abs, false)) {
            files.set(rel + '/' + r, s2);
            subset.add(rel + '/' + r);
          }
          for (const known of this.byPath.keys()) if (known.startsWith(rel + '/')) subset.add(known);
        } else {
          subset.add(rel);
          if (st?.isFile()) files.set(rel, { size: st.size, mtime: Math.floor(st.mtimeMs), ino: st.ino, mode: st.mode & 0o777 });
          for (const known of this.byPath.keys()) if (known.startsWith(rel + '/')) subset.add(known);
        }
      }
    } else files = await walk(this.root);
    let changed = false;
    const todo: Array<[string, StatInfo | undefined]> = [];
    for (const [rel, st] of files) {
      const cache = this.local.get(rel);
      if (cache && cache.size === st.size && cache.mtime === st.mtime && cache.ino === st.ino && cache.mode === st.mode) continue;
      if (this.applying.has(rel)) continue;
      todo.push([rel, cache]);
    }
    await forEachLimit(todo, 4, async ([rel, cache]) => {
      if (this.closed) return;
      const st = files.get(rel)!;
      const known = this.byPath.get(rel);
      const was = known ? this.entries.get(known) : undefined;
      if (cache && was?.p && !was.p.del && cache.size === st.size && cache.mtime === st.mtime && cache.ino === st.ino && was.p.size === st.size && was.p.mtime === st.mtime) {
        // Only the permission bits changed: same content, so no need to read and hash the file again.
        if (was.seq > startSeq || this.applying.has(rel)) return;
        const plain: PlainRecord = { ...was.p, mode: st.mode };
        this.local.set(rel, st);
        this.install(makeRecord(this.keys, plain, vvBump(was.s.vv, this.device), was.s.blocks), plain);
        changed = true;
        return;
      }
      const h = await hashFile(() => this.openRead(rel), this.keys);
      if (!h || this.applying.has(rel) || this.local.get(rel) !== cache || this.closed) return;
      const id = this.byPath.get(rel);
      const cur = id ? this.entries.get(id) : undefined;
      if (cur && cur.seq > startSeq) return;
      const stat: StatInfo = { size: h.size, mtime: h.mtime, ino: h.ino, mode: h.mode };
      if (cur?.p && !cur.p.del && cur.p.size === h.size && cur.p.mtime === h.mtime && cur.p.mode === h.mode && sameBlocks(cur.p.blocks, h.blocks)) {
        this.local.set(rel, stat);
        return;
      }
      const plain: PlainRecord = { path: rel, size: h.size, mtime: h.mtime, mode: h.mode, bs: h.bs, blocks: h.blocks, del: false };
      const rec = makeRecord(this.keys, plain, vvBump(cur?.s.vv ?? [], this.device), h.cipher);
      this.local.set(rel, stat);
      this.install(rec, plain);
      changed = true;
    });
    for (const [rel, id] of subset ? [...subset].map((r) => [r, this.byPath.get(r)] as const) : [...this.byPath]) {
      if (!id || files.has(rel) || this.applying.has(rel)) continue;
      const cur = this.entries.get(id);
      if (!cur?.p || cur.p.del || cur.seq > startSeq) continue;
      const plain: PlainRecord = { path: rel, size: 0, mtime: Date.now(), mode: cur.p.mode, bs: 128 * 1024, blocks: [], del: true };
      this.local.delete(rel);
      this.install(makeRecord(this.keys, plain, vvBump(cur.s.vv, this.device), []), plain);
      changed = true;
    }
    if (changed) this.scheduleSave();
  }

  /* ================= peers ================= */

  attach(conn: Connection): void {
    if (this.closed) {
      conn.destroy(new SyncError('CLOSED', 'folder removed'));
      return;
    }
    for (const l of this.links) {
      if (l.conn.remoteDevice === conn.remoteDevice) {
        // Duplicate: keep the connection dialled by the smaller device id.
        const keepNew = (conn.initiator ? this.device : conn.remoteDevice) < (conn.initiator ? conn.remoteDevice : this.device);
        const keepOld = (l.conn.initiator ? this.device : l.conn.remoteDevice) < (l.conn.initiator ? l.conn.remoteDevice : this.device);
        if (keepOld || !keepNew) {
          conn.destroy(new SyncError('CLOSED', 'duplicate connection'));
          return;
        }
        l.conn.destroy(new SyncError('CLOSED', 'duplicate connection'));
      }
    }
    const link: Link = {
      conn,
      have: new Map(),
      remote: null,
      recvSeq: 0,
      fullIndex: false,
      sentIdx: 0,
      inflightBytes: 0,
      inflightCount: 0,
      reqs: new Map(),
      nextReq: 1,
      bad: 0,
      ready: false,
      finalSent: false,
      peersBudget: PEERS_PER_INTERVAL,
      peersAt: Date.now(),
    };
    this.links.add(link);
    conn.on('message', (m) => this.onMessage(link, m));
    conn.on('close', () => this.detach(link));
    conn.resume();
    if (conn.closed) return;
    // Our index goes out once the peer said what it already holds of it (its IndexStart).
    const r = this.remotes.get(conn.remoteDevice);
    conn.send({ type: MsgType.IndexStart, index: this.indexId, have: r ? { index: r.index, seq: r.seq } : null });
    const peers = this.peerAddresses(link);
    if (peers.length) conn.send({ type: MsgType.Peers, peers });
    for (const l of this.links) {
      if (l !== link && !l.conn.closed && link.conn.remotePort) {
        l.conn.send({ type: MsgType.Peers, peers: [`${link.conn.remoteHost}:${link.conn.remotePort}`] });
      }
    }
    this.lastSynced = false;
  }

  private peerAddresses(except?: Link): string[] {
    const out: string[] = [];
    for (const l of this.links) if (l !== except && l.conn.remotePort) out.push(`${l.conn.remoteHost}:${l.conn.remotePort}`);
    return out.slice(0, MAX_PEERS);
  }

  private detach(link: Link): void {
    if (!this.links.delete(link)) return;
    if (link.remote && this.doneWith(link)) link.remote.seq = Math.max(link.remote.seq, link.recvSeq);
    for (const r of link.reqs.values()) r.reject(new SyncError('CLOSED', 'peer disconnected'));
    link.reqs.clear();
    for (const w of this.wanted.values()) w.sources.delete(link);
    this.emit('linkClosed', link.conn);
    this.dispatch();
    this.checkSynced();
  }

  private onIndexStart(link: Link, m: IndexStartMsg): void {
    if (link.remote) {
      link.conn.destroy(new SyncError('BAD_MESSAGE', 'second IndexStart'));
      return;
    }
    const device = link.conn.remoteDevice;
    let r = this.remotes.get(device);
    if (!r || r.index !== m.index) {
      // A new index on the peer (first contact, or its database was reset): forget what we had of the old one.
      if (r) this.resetPeers.add(device);
      r = { index: m.index, seq: 0, have: new TrackedMap() };
      this.remotes.set(device, r);
      this.scheduleSave();
    }
    for (const [id, h] of link.have) r.have.set(id, h);
    link.have = r.have;
    link.remote = r;
    link.recvSeq = r.seq;
    // With index deltas the peer will not announce again what it announced before this
    // connection, so versions we still want (a revert, a transfer cut by a restart) get it as a
    // source now, from what we remember it holds; otherwise they would wait for a change forever.
    let sourced = false;
    for (const w of this.wanted.values()) {
      if (!w.s.del && link.have.get(w.s.id) === w.s.hash && !w.sources.has(link)) {
        w.sources.add(link);
        sourced = true;
      }
    }
    // Only what changed since the sequence the peer holds of this very index; all of it otherwise.
    this.sendIndexSince(link, m.have && m.have.index === this.indexId ? m.have.seq : 0);
    if (sourced) this.pump();
  }

  private sendIndexSince(link: Link, since: number): void {
    const all: Entry[] = [];
    for (const e of this.entries.values()) if (e.seq > since) all.push(e);
    all.sort((a, b) => a.seq - b.seq);
    let batch: WireRecord[] = [];
    let size = 0;
    let last = since;
    for (const e of all) {
      batch.push({ body: e.s.body, sig: e.s.sig });
      size += e.s.body.length + 68;
      last = e.seq;
      if (batch.length >= 2000 || size > 4 * 1024 * 1024) {
        link.conn.send({ type: MsgType.Index, final: false, seq: last, records: batch });
        batch = [];
        size = 0;
      }
    }
    link.conn.send({ type: MsgType.Index, final: false, seq: this.seq, records: batch });
    link.sentIdx = this.log.length;
    link.ready = true;
    if (this.scannedOnce) this.sendFinal(link);
  }

  private scheduleBroadcast(): void {
    if (this.broadcastTimer || this.closed) return;
    this.broadcastTimer = setTimeout(() => {
      this.broadcastTimer = null;
      this.broadcast();
    }, 5);
  }

  private broadcast(): void {
    for (const link of this.links) {
      if (!link.ready || link.conn.closed) continue;
      let batch: WireRecord[] = [];
      let size = 0;
      const sent = new Set<string>();
      for (let i = link.sentIdx; i < this.log.length; i++) {
        const id = this.log[i]!;
        if (sent.has(id)) continue;
        const e = this.entries.get(id);
        if (!e) continue;
        sent.add(id);
        batch.push({ body: e.s.body, sig: e.s.sig });
        size += e.s.body.length + 68;
        if (batch.length >= 2000 || size > 4 * 1024 * 1024) {
          // No sequence claim yet: an entry later in the log may carry an older sequence.
          link.conn.send({ type: MsgType.IndexUpdate, final: false, seq: 0, records: batch });
          batch = [];
          size = 0;
        }
      }
      if (batch.length) link.conn.send({ type: MsgType.IndexUpdate, final: false, seq: this.seq, records: batch });
      link.sentIdx = this.log.length;
    }
    // Compact the log once every link has consumed it.
    let min = this.log.length;
    for (const l of this.links) if (l.ready) min = Math.min(min, l.sentIdx);
    if (min > 10000 && min === this.log.length) {
      this.log = [];
      for (const l of this.links) l.sentIdx = 0;
    }
  }

  private onMessage(link: Link, m: Message): void {
    if (this.closed) return;
    switch (m.type) {
      case MsgType.Index:
      case MsgType.IndexUpdate:
        for (const r of m.records) this.onRecord(link, r);
        if (m.seq) link.recvSeq = Math.max(link.recvSeq, m.seq);
        if (m.type === MsgType.Index && m.final) link.fullIndex = true;
        if (m.records.length) this.scheduleSave();
        this.pump();
        this.checkSynced();
        return;
      case MsgType.IndexStart:
        this.onIndexStart(link, m);
        return;
      case MsgType.Request:
        void this.serve(link, m.id, m.kind, m.hash, m.size);
        return;
      case MsgType.Response: {
        const r = link.reqs.get(m.id);
        if (!r) return;
        link.reqs.delete(m.id);
        link.inflightBytes -= r.size;
        link.inflightCount--;
        if (m.status === RespStatus.Ok) r.resolve(Buffer.from(m.data));
        else r.reject(new SyncError('BAD_BLOCK', 'peer does not have the block'));
        this.dispatch();
        return;
      }
      case MsgType.Peers: {
        // Rate-limited per peer: a member may suggest addresses, not make us dial the world.
        const t = Date.now();
        link.peersBudget = Math.min(PEERS_PER_INTERVAL, link.peersBudget + ((t - link.peersAt) * PEERS_PER_INTERVAL) / PEERS_INTERVAL_MS);
        link.peersAt = t;
        const take = m.peers.slice(0, Math.floor(link.peersBudget));
        link.peersBudget -= take.length;
        if (take.length) this.emit('peers', take);
        return;
      }
      case MsgType.Error:
        this.err(new SyncError('BAD_MESSAGE', `peer reported ${m.code}: ${m.message}`), link.conn.remoteDevice);
        return;
      case MsgType.Hello:
        link.conn.destroy(new SyncError('BAD_MESSAGE', 'unexpected hello'));
        return;
    }
  }

  /* ================= index: deciding what to pull ================= */

  private onRecord(link: Link, w: WireRecord): void {
    let s: SealedRecord;
    let p: PlainRecord | undefined;
    try {
      s = verifyRecord(this.keys, w);
      if (this.plainLevel) p = openRecord(this.keys, s);
    } catch (e) {
      link.bad++;
      this.err(e as Error, link.conn.remoteDevice);
      if (link.bad > 100) link.conn.destroy(new SyncError('BAD_RECORD', 'too many bad records'));
      return;
    }
    link.have.set(s.id, s.hash);
    if (!this.acceptsRemote || this.failedVersions.has(s.hash)) return;
    const want = this.wanted.get(s.id);
    if (want) {
      if (want.s.hash === s.hash) {
        want.sources.add(link);
        return;
      }
      const o = vvCompare(s.vv, want.s.vv);
      if (o === 'lesser' || o === 'equal') return;
      if (o === 'concurrent' && pickWinner({ s: want.s, ...(want.p ? { p: want.p } : {}) }, { s, ...(p ? { p } : {}) }) === 'a') return;
      if (want.active) {
        // Let the active transfer finish; the newer version will be wanted again after.
      }
    }
    const cur = this.entries.get(s.id);
    if (cur?.s.hash === s.hash) {
      if (want && !want.active) this.wanted.delete(s.id);
      return;
    }
    const d = this.decide(s, p);
    if (!d) return;
    const keepLocal = d.keepLocal;
    const sources = new Set<Link>();
    for (const l of this.links) if (!l.conn.closed && l.have.get(s.id) === s.hash) sources.add(l);
    const nw: Want = { s, sources, keepLocal, base: cur?.s.hash, active: false, retryAt: 0, doneBytes: 0 };
    if (p) nw.p = p;
    if (want?.active) {
      // queue behind the active one
      (want as Want & { next?: Want }).next = nw;
      return;
    }
    this.wanted.set(s.id, nw);
    this.lastSynced = false;
  }

  /**
   * Should a remote version replace our entry, and must our local version be
   * kept aside as a conflict copy? null: ours is the same, newer or the winner.
   */
  private decide(s: SealedRecord, p: PlainRecord | undefined): { keepLocal: boolean } | null {
    const cur = this.entries.get(s.id);
    if (!cur) return { keepLocal: false };
    if (cur.s.hash === s.hash) return null;
    const o = vvCompare(s.vv, cur.s.vv);
    if (o === 'lesser' || o === 'equal') return null;
    if (o === 'greater') return { keepLocal: false };
    // Our version wins: keep its record exactly as signed. Re-signing it with
    // the merged version vector would claim it had seen the loser's edit,
    // and would then replace that edit on every peer with no conflict copy.
    if (pickWinner({ s: cur.s, ...(cur.p ? { p: cur.p } : {}) }, { s, ...(p ? { p } : {}) }) === 'a') return null;
    return { keepLocal: this.canPublish && !!cur.p && !cur.p.del && !(p && sameContent(cur.p, p)) };
  }

  /* ================= pulling ================= */

  private pump(): void {
    // A publisher scans first, so a local edit made while offline is known
    // (and can conflict) before any remote version replaces it.
    if (this.closed || !this.scannedOnce) return;
    const now = Date.now();
    let pendingData = -1;
    let nextRetry = Infinity;
    for (const w of this.wanted.values()) {
      if (this.active >= MAX_ACTIVE_FILES) break;
      if (w.active) continue;
      if (w.retryAt > now) {
        nextRetry = Math.min(nextRetry, w.retryAt);
        continue;
      }
      if (w.s.del) {
        if (pendingData < 0) {
          pendingData = 0;
          for (const x of this.wanted.values()) if (!x.s.del && (x.active || x.sources.size > 0)) pendingData++;
        }
        if (pendingData > 0) continue; // deletions after data, so renames can copy locally
      } else if (w.sources.size === 0 && !this.allLocal(w)) continue;
      this.start(w);
    }
    if (nextRetry < Infinity && !this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.pump();
      }, Math.max(10, nextRetry - now));
    }
  }

  private allLocal(w: Want): boolean {
    if (!w.p) return w.s.blocks.length === 0;
    return w.p.blocks.every((h) => this.blockIndex.has(h));
  }

  private start(w: Want): void {
    if (this.entries.get(w.s.id)?.s.hash !== w.base) {
      // Our entry changed since we wanted this version (a local edit scanned
      // meanwhile): decide again, or that edit would be overwritten silently.
      const d = this.decide(w.s, w.p);
      if (!d) {
        this.wanted.delete(w.s.id);
        return;
      }
      w.keepLocal = d.keepLocal;
      w.base = this.entries.get(w.s.id)?.s.hash;
    }
    w.active = true;
    this.active++;
    const p = this.plainLevel ? this.applyPlain(w) : this.applyEncrypted(w);
    p.then(
      () => {
        w.active = false;
        this.active--;
        const next = (w as Want & { next?: Want }).next;
        if (this.wanted.get(w.s.id) === w) this.wanted.delete(w.s.id);
        if (next) this.wanted.set(next.s.id, next);
        this.pump();
        this.checkSynced();
      },
      (e: Error) => {
        w.active = false;
        this.active--;
        const next = (w as Want & { next?: Want }).next;
        if (next) this.wanted.set(next.s.id, next);
        w.retryAt = Date.now() + 1000;
        const code = (e as NodeJS.ErrnoException).code;
        if (code && PERMANENT_FS_ERRORS.has(code) && this.wanted.get(w.s.id) === w) {
          // Retrying cannot help (e.g. a name too long for this file system): fail
          // this version once, visibly, and stop blocking the rest of the folder.
          this.wanted.delete(w.s.id);
          this.failedVersions.add(w.s.hash);
          if (!this.closed) this.err(new SyncError('IO', `cannot write ${w.p?.path ?? w.s.id}: ${e.message}; this version is skipped`));
        } else if (!this.closed) this.err(e);
        this.pump();
        this.checkSynced();
      },
    );
  }

  private async applyEncrypted(w: Want): Promise<void> {
    const store = this.store!;
    const cur = this.entries.get(w.s.id);
    if (!w.s.del) {
      await forEachLimit(w.s.blocks, BLOCK_CONCURRENCY_PER_FILE, async ([h, len]) => {
        if (await store.has(h)) return;
        const data = await this.fetchBlock({ cipher: h, cipherLen: len, plainLen: len - 28 }, w.sources);
        if (this.closed) throw new SyncError('CLOSED', 'folder closed');
        await store.put(h, data);
        this.bytesDone += len;
        w.doneBytes += len;
      });
    }
    if (this.closed) throw new SyncError('CLOSED', 'folder closed');
    if (cur && vvCompare(w.s.vv, cur.s.vv) === 'lesser') return;
    this.install(w.s, undefined);
  }

  private async applyPlain(w: Want): Promise<void> {
    const p = w.p!;
    const rel = p.path;
    const target = path.join(this.root, rel);
    if (!target.startsWith(this.root + path.sep)) throw new SyncError('BAD_RECORD', 'path escapes the folder');
    this.applying.add(rel);
    try {
      const cur = this.entries.get(w.s.id);
      const cache = this.local.get(rel);
      const cs = this.fsa.lstat(rel) ?? null; // throws ESYMLINK when a folder on the way is a symlink
      const unchangedLocally = !cs || (cache && cs.isFile() && cache.size === cs.size && cache.mtime === Math.floor(cs.mtimeMs) && cache.ino === cs.ino);
      if (p.del) {
        if (cs && cs.isFile()) {
          if (unchangedLocally || !this.canPublish) {
            try {
              this.fsa.unlink(rel);
            } catch {
              // gone already, or its folder was swapped for a symlink: nothing is done there
            }
            this.pruneDirs(rel);
          }
          // else: a local edit beats a delete; the next scan publishes it.
        }
        this.local.delete(rel);
        this.installRemote(w, p);
        this.emit('fileDeleted', { folderId: this.id, path: rel, version: w.s.hash });
        return;
      }
      // Metadata-identical content already in place (e.g. both sides made the same edit): no rewrite.
      if (cs && unchangedLocally && cur?.p && !cur.p.del && sameContent(cur.p, p) && cur.p.mtime === p.mtime && cur.p.mode === p.mode) {
        this.installRemote(w, p);
        return;
      }
      const tmpDir = path.join(this.root, META_DIR, 'tmp');
      this.fsa.mkdirp(TMP_REL); // a real folder, even if someone removed or replaced it meanwhile
      const base = w.s.hash.slice(0, 40);
      if (p.blocks.length <= 1 && p.size <= 256 * 1024) {
        // Small file fast path: one block, few syscalls, no progress file.
        let data: Buffer = Buffer.alloc(0);
        const h = p.blocks[0];
        if (h) {
          const local = await this.readLocalBlock(h, p.size);
          if (local) data = local;
          else {
            const cb = w.s.blocks[0]!;
            data = await this.fetchBlock({ plain: h, cipher: cb[0], cipherLen: cb[1], plainLen: p.size }, w.sources);
            this.bytesDone += p.size;
            w.doneBytes += p.size;
          }
        }
        if (this.closed) throw new SyncError('CLOSED', 'folder closed');
        const tmp = path.join(tmpDir, base + '.part');
        fs.writeFileSync(tmp, data, { mode: fileMode(p.mode) });
        fs.chmodSync(tmp, fileMode(p.mode));
        fs.utimesSync(tmp, p.mtime / 1000, p.mtime / 1000);
        this.finishFile(w, p, tmp, fs.statSync(tmp), cache);
        return;
      }
      const tmp = path.join(tmpDir, base + '.part');
      const progFile = path.join(tmpDir, base + '.json');
      const verified = new Set<number>();
      let fh: fs.promises.FileHandle;
      try {
        const prog = JSON.parse(await fs.promises.readFile(progFile, 'utf8')) as { hash: string; done: number[] };
        fh = await fs.promises.open(tmp, 'r+');
        if (prog.hash === w.s.hash) {
          // Re-verify what the progress file claims, cheaply, before trusting it.
          const buf = Buffer.allocUnsafe(p.bs);
          for (const i of prog.done) {
            const off = i * p.bs;
            const len = Math.min(p.bs, p.size - off);
            const { bytesRead } = await fh.read(buf, 0, len, off);
            if (bytesRead === len && sha256b64(buf.subarray(0, len)) === p.blocks[i]) verified.add(i);
          }
        }
      } catch {
        fh = await fs.promises.open(tmp, 'w+');
      }
      let dirty = false;
      let finished = false;
      let flushing: Promise<void> = Promise.resolve();
      // Flushes run one after another (the timer's and close()'s could overlap, and two writeFiles
      // on one file interleave into corrupt JSON), each to a temp name renamed over the last, so a
      // kill at any moment leaves a whole progress file.
      const flush = async (): Promise<void> => {
        flushing = flushing.catch(() => undefined).then(async () => {
          if (!dirty || finished) return;
          dirty = false;
          await fs.promises.writeFile(progFile + '.tmp', JSON.stringify({ hash: w.s.hash, done: [...verified] }));
          await fs.promises.rename(progFile + '.tmp', progFile);
        });
        await flushing;
      };
      this.progressFlushers.add(flush);
      const flushTimer = setInterval(() => void flush().catch(() => undefined), 250);
      try {
        await forEachLimit(
          p.blocks.map((h, i) => [h, i] as const),
          BLOCK_CONCURRENCY_PER_FILE,
          async ([h, i]) => {
            if (verified.has(i)) return;
            const off = i * p.bs;
            const len = Math.min(p.bs, p.size - off);
            let data = await this.readLocalBlock(h, len);
            if (!data) {
              const cb = w.s.blocks[i]!;
              data = await this.fetchBlock({ plain: h, cipher: cb[0], cipherLen: cb[1], plainLen: len }, w.sources);
              this.bytesDone += len;
              w.doneBytes += len;
            }
            if (this.closed) throw new SyncError('CLOSED', 'folder closed');
            await fh.write(data, 0, len, off);
            verified.add(i);
            dirty = true;
          },
        );
        if (this.closed) throw new SyncError('CLOSED', 'folder closed');
        await fh.truncate(p.size);
        await fh.chmod(fileMode(p.mode));
        await fh.utimes(p.mtime / 1000, p.mtime / 1000);
        await fh.datasync();
        const st = await fh.stat();
        await fh.close();
        finished = true;
        clearInterval(flushTimer);
        this.progressFlushers.delete(flush);
        await flushing;
        await fs.promises.unlink(progFile).catch(() => undefined);
        this.finishFile(w, p, tmp, st, cache);
      } catch (e) {
        clearInterval(flushTimer);
        await flush().catch(() => undefined);
        this.progressFlushers.delete(flush);
        await fh.close().catch(() => undefined);
        throw e;
      }
    } finally {
      this.applying.delete(rel);
    }
  }

  /** Put a fully verified temp file in place: keep a conflicting local version aside, then rename. */
  private finishFile(w: Want, p: PlainRecord, tmp: string, st: fs.Stats, cache: StatInfo | undefined): void {
    const rel = p.path;
    const tmpRel = TMP_REL + '/' + path.basename(tmp);
    const slash = rel.lastIndexOf('/');
    if (slash > 0) this.fsa.mkdirp(rel.slice(0, slash));
    // Re-check the target right before replacing it.
    const cs2 = this.fsa.lstat(rel);
    const changed2 = cs2 && !(cache && cs2.isFile() && cache.size === cs2.size && cache.mtime === Math.floor(cs2.mtimeMs) && cache.ino === cs2.ino);
    let conflictCopy: string | undefined;
    if (cs2 && this.canPublish && (w.keepLocal || changed2)) {
      conflictCopy = conflictName(rel, new Date(), this.device);
      // Never rename over an earlier conflict copy of the same second.
      for (let i = 2; this.fsa.exists(conflictCopy); i++) conflictCopy = conflictName(rel, new Date(), this.device, i);
      this.fsa.rename(rel, conflictCopy);
    } else if (cs2 && cs2.isDirectory()) {
      this.fsa.unlink(tmpRel);
      throw new SyncError('IO', `cannot replace directory ${rel} with a file`);
    }
    this.fsa.rename(tmpRel, rel); // never writes into an existing inode
    this.local.set(rel, { size: st.size, mtime: Math.floor(st.mtimeMs), ino: st.ino, mode: st.mode & 0o777 });
    this.installRemote(w, p);
    const ev: FileEvent = { folderId: this.id, path: rel, size: p.size, mtime: p.mtime, mode: fileMode(p.mode), version: w.s.hash };
    if (conflictCopy) ev.conflictCopy = conflictCopy;
    this.emit('fileChanged', ev);
    if (conflictCopy) void this.scan([path.join(this.root, conflictCopy)]);
  }

  /** The loser of a conflict adopts the winner's record as signed (as Syncthing does), so every peer converges on it. */
  private installRemote(w: Want, p: PlainRecord): void {
    this.install(w.s, p);
  }

  /** Remove the folders above `rel` that a deletion left empty (anchored: never through a symlink). */
  private pruneDirs(rel: string): void {
    for (let d = rel.slice(0, Math.max(0, rel.lastIndexOf('/'))); d; d = d.slice(0, Math.max(0, d.lastIndexOf('/')))) {
      try {
        this.fsa.rmdir(d);
      } catch {
        return;
      }
    }
  }

  /** Open a file of the folder for reading, never through a symlink. */
  private openRead(rel: string): Promise<fs.promises.FileHandle> {
    return this.fsa.withParentAsync(rel, (at) => fs.promises.open(at, O_READ_NOFOLLOW));
  }

  private async readLocalBlock(h: string, len: number): Promise<Buffer | null> {
    const loc = this.blockIndex.get(h);
    if (!loc || loc.len !== len) return null;
    try {
      const fh = await this.openRead(loc.path);
      try {
        const buf = Buffer.allocUnsafe(len);
        const { bytesRead } = await fh.read(buf, 0, len, loc.off);
        if (bytesRead !== len || sha256b64(buf) !== h) return null;
        return buf;
      } finally {
        await fh.close();
      }
    } catch {
      return null;
    }
  }

  /** Fetch one block from the least-loaded source; verified before it is returned. */
  private fetchBlock(ref: BlockRef, sources: Set<Link>): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.blockQueue.push({ ref, sources, tried: new Set(), resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    if (!this.blockQueue.length) return;
    const keep: typeof this.blockQueue = [];
    for (const q of this.blockQueue) {
      let best: Link | null = null;
      let eligible = 0;
      for (const l of q.sources) {
        if (l.conn.closed || q.tried.has(l)) continue;
        eligible++;
        if (l.inflightBytes >= LINK_MAX_BYTES || l.inflightCount >= LINK_MAX_REQS) continue;
        if (!best || l.inflightBytes < best.inflightBytes) best = l;
      }
      if (!eligible) {
        q.reject(new SyncError('BAD_BLOCK', 'no peer could supply a verified copy of a block'));
        continue;
      }
      if (!best) {
        keep.push(q);
        continue;
      }
      this.request(best, q);
    }
    this.blockQueue = keep;
  }

  private request(link: Link, q: (typeof this.blockQueue)[number]): void {
    const ref = q.ref;
    const useCipher = !this.plainLevel || link.conn.remoteLevel === 'enc' || !ref.plain;
    const id = link.nextReq++ >>> 0;
    const size = useCipher ? ref.cipherLen : ref.plainLen;
    link.inflightBytes += size;
    link.inflightCount++;
    const retry = (e: Error): void => {
      q.tried.add(link);
      if (e instanceof SyncError && (e.code === 'BAD_BLOCK' || e.code === 'DECRYPT_FAILED')) {
        this.err(e, link.conn.remoteDevice);
        // It announced a version it cannot serve (a local edit on a read-only peer,
        // or a lie): it is no source of that version, and waiting for it would stall us.
        q.sources.delete(link);
      }
      if (this.closed) {
        q.reject(new SyncError('CLOSED', 'folder closed'));
        return;
      }
      this.blockQueue.push(q);
      this.dispatch();
    };
    link.reqs.set(id, {
      size,
      resolve: (data) => {
        try {
          if (useCipher) {
            if (data.length !== ref.cipherLen || sha256b64(data) !== ref.cipher) throw new SyncError('BAD_BLOCK', 'ciphertext block failed its hash check');
            if (!this.plainLevel) return q.resolve(data);
            const plain = decryptBlock(this.keys, data);
            if (sha256b64(plain) !== ref.plain) throw new SyncError('BAD_BLOCK', 'decrypted block failed its hash check');
            return q.resolve(plain);
          }
          if (data.length !== ref.plainLen || sha256b64(data) !== ref.plain) throw new SyncError('BAD_BLOCK', 'block failed its hash check');
          q.resolve(data);
        } catch (e) {
          retry(e as Error);
        }
      },
      reject: retry,
    });
    link.conn.send({ type: MsgType.Request, id, kind: useCipher ? BlockKind.Cipher : BlockKind.Plain, hash: Buffer.from(useCipher ? ref.cipher : ref.plain!, 'base64'), size });
  }

  /* ================= serving ================= */

  private async serve(link: Link, id: number, kind: BlockKind, hash: Buffer, size: number): Promise<void> {
    const h = hash.toString('base64');
    let data: Buffer | null = null;
    try {
      if (kind === BlockKind.Cipher) {
        if (!this.plainLevel) data = await this.store!.get(h);
        else {
          const loc = this.cipherIndex.get(h);
          if (loc) {
            const plain = await this.readAt(loc.path, loc.off, loc.len);
            if (plain && sha256b64(plain) === loc.plain) {
              const c = encryptBlock(this.keys, plain, Buffer.from(loc.plain, 'base64'));
              if (sha256b64(c) === h) data = c;
            }
          }
        }
      } else if (this.plainLevel && link.conn.remoteLevel !== 'enc') {
        const loc = this.blockIndex.get(h);
        if (loc) {
          const plain = await this.readAt(loc.path, loc.off, loc.len);
          if (plain && sha256b64(plain) === h) data = plain;
        }
      }
    } catch {
      data = null;
    }
    void size;
    if (this.closed || link.conn.closed) return;
    if (link.conn.writableLength > 64 * 1024 * 1024) await link.conn.drain();
    if (this.closed || link.conn.closed) return;
    link.conn.send({ type: MsgType.Response, id, status: data ? RespStatus.Ok : RespStatus.NotFound, data: data ?? Buffer.alloc(0) });
  }

  private async readAt(rel: string, off: number, len: number): Promise<Buffer | null> {
    const fh = await this.openRead(rel).catch(() => null);
    if (!fh) return null;
    try {
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, off);
      return bytesRead === len ? buf : null;
    } finally {
      await fh.close();
    }
  }

  /* ================= local changes of receive-only folders ================= */

  /**
   * What differs on disk from the published versions (receive-only folders:
   * such changes are never sent). Files still being received are left out.
   */
  async localChanges(): Promise<LocalChange[]> {
    if (!this.plainLevel || this.canPublish || this.closed) return [];
    const files = await walk(this.root);
    const out: LocalChange[] = [];
    for (const [rel, id] of this.byPath) {
      const e = this.entries.get(id);
      if (!e?.p || this.wanted.has(id) || this.applying.has(rel)) continue;
      const st = files.get(rel);
      if (e.p.del) {
        if (st) out.push({ path: rel, change: 'added' });
        continue;
      }
      const c = this.local.get(rel);
      if (!st) out.push({ path: rel, change: 'deleted' });
      else if (!c || c.size !== st.size || c.mtime !== st.mtime || c.ino !== st.ino || c.mode !== st.mode) out.push({ path: rel, change: 'modified' });
    }
    for (const rel of files.keys()) if (!this.byPath.has(rel)) out.push({ path: rel, change: 'added' });
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /**
   * Syncthing's "revert local changes" for a receive-only folder: files
   * changed or deleted here get the published version again (from peers),
   * files added here are removed. Returns what it reverted.
   */
  async revert(): Promise<LocalChange[]> {
    if (this.canPublish || !this.plainLevel) throw new SyncError('MODE_NOT_ALLOWED', `revert is for receive-only folders; this folder is ${this.mode}`);
    const changes = await this.localChanges();
    for (const c of changes) {
      const id = this.byPath.get(c.path);
      const e = id ? this.entries.get(id) : undefined;
      if (c.change === 'added' || !e?.p) {
        try {
          this.fsa.unlink(c.path);
        } catch {
          // gone already
        }
        this.local.delete(c.path);
        continue;
      }
      this.local.delete(c.path);
      const sources = new Set<Link>();
      for (const l of this.links) if (!l.conn.closed && l.have.get(e.s.id) === e.s.hash) sources.add(l);
      this.wanted.set(e.s.id, { s: e.s, p: e.p, sources, keepLocal: false, base: e.s.hash, active: false, retryAt: 0, doneBytes: 0 });
    }
    this.lastSynced = false;
    this.pump();
    this.checkSynced();
    return changes;
  }

  /* ================= status ================= */

  private isInSync(): boolean {
    if (!this.scannedOnce || this.scanning || this.active > 0) return false;
    let live = 0;
    for (const l of this.links) {
      if (l.conn.closed) continue;
      live++;
      if (!l.fullIndex) return false;
    }
    if (live === 0) return false;
    for (const w of this.wanted.values()) if (w.sources.size > 0 || w.s.del || this.allLocal(w)) return false;
    return true;
  }

  private checkSynced(): void {
    if (this.closed) return;
    const s = this.isInSync();
    if (s && !this.lastSynced) {
      this.lastSynced = true;
      this.scheduleSave(); // remembers how far each peer's index is dealt with
      this.emit('folderSynced', { folderId: this.id, peers: [...this.links].filter((l) => !l.conn.closed).length });
    } else if (!s) this.lastSynced = false;
  }

  private sampleRate(): void {
    const now = Date.now();
    this.rateSamples.push([now, this.bytesDone]);
    while (this.rateSamples.length > 6) this.rateSamples.shift();
  }

  progress(): Progress {
    let left = 0;
    let files = 0;
    for (const w of this.wanted.values()) {
      if (w.s.del) {
        files++;
        continue;
      }
      files++;
      const total = w.p ? w.p.size : w.s.blocks.reduce((a, b) => a + b[1], 0);
      left += Math.max(0, total - w.doneBytes);
    }
    let rate = 0;
    const first = this.rateSamples[0];
    if (first && now() - first[0] > 0) rate = ((this.bytesDone - first[1]) * 1000) / (now() - first[0]);
    return { bytesDone: this.bytesDone, bytesLeft: left, filesLeft: files, rate: Math.round(rate), inSync: this.isInSync() };
  }

  /**
   * The connected peers (their device ids) whose index holds this folder's current version of
   * `rel`: a peer announces a record only once the file is complete on its disk. Empty while
   * the local file has changed since the last scan, so a stale version never counts.
   */
  peersHolding(rel: string): string[] {
    const id = this.byPath.get(rel);
    const e = id ? this.entries.get(id) : undefined;
    if (!e?.p || e.p.del) return [];
    const cache = this.local.get(rel);
    const st = fs.lstatSync(path.join(this.root, rel), { throwIfNoEntry: false });
    if (!cache || !st?.isFile() || cache.ino !== st.ino || cache.size !== st.size || cache.mtime !== Math.floor(st.mtimeMs)) return [];
    const out: string[] = [];
    for (const l of this.links) if (!l.conn.closed && l.have.get(e.s.id) === e.s.hash) out.push(l.conn.remoteDevice);
    return out;
  }

  listFiles(): Array<{ path?: string; id: string; size: number; deleted: boolean; version: string }> {
    const out: Array<{ path?: string; id: string; size: number; deleted: boolean; version: string }> = [];
    for (const e of this.entries.values()) {
      const o: { path?: string; id: string; size: number; deleted: boolean; version: string } = {
        id: e.s.id,
        size: e.p ? e.p.size : e.s.blocks.reduce((a, b) => a + b[1], 0),
        deleted: e.s.del,
        version: e.s.hash,
      };
      if (e.p) o.path = e.p.path;
      out.push(o);
    }
    return out;
  }
}

/**
 * The mode a received file gets: permission bits only (never setuid, setgid
 * or sticky from the network), and always readable and writable by its owner.
 */
export function fileMode(recordMode: number): number {
  return (recordMode & 0o777) | 0o600;
}

/** The state file (JSON): the index in sequence order, local stat cache, and what we hold of each peer's index. */
interface SavedState {
  v: 1 | 2;
  index?: string;
  seq?: number;
  entries: Array<[string, string, number?]>;
  local?: Array<[string, number, number, number, number]>;
  peers?: Record<string, { index: string; seq: number; have: Array<[string, string]> }>;
}

function now(): number {
  return Date.now();
}
function sha256b64(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('base64');
}
function sameBlocks(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
function sameContent(a: PlainRecord, b: PlainRecord): boolean {
  return a.del === b.del && a.size === b.size && sameBlocks(a.blocks, b.blocks);
}

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  let failed: Error | null = null;
  const worker = async (): Promise<void> => {
    while (i < items.length && !failed) {
      const t = items[i++]!;
      try {
        await fn(t);
      } catch (e) {
        failed = e as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed;
}
