/**
 * The folder's own database (SQLite, one file per folder in the engine's
 * state dir): the signed records with their sequences, the local stat cache
 * and what we hold of each peer's index. Why this exists: the index used to be
 * one JSON file rewritten whole every few seconds (70 MB at 100,000 files);
 * here only the rows that changed since the last save are written, in one
 * transaction. It knows nothing of the NAS's store (the engine is a library).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { StatInfo } from './scanner.js';

export interface StoredRecord {
  id: string;
  seq: number;
  body: Buffer;
  sig: Buffer;
  /** The plaintext path (plain-level folders only): lets a scan list the known paths under a folder. */
  path?: string | null;
  /** Listing columns (hex version hash, size in bytes, deleted): the file list needs no record opened. */
  hash?: string;
  size?: number;
  del?: boolean;
}
export interface ListedRecord {
  id: string;
  path: string | null;
  size: number;
  del: number;
  hash: string;
}
/** Where a plaintext block can be read locally. */
export interface BlockLoc {
  path: string;
  off: number;
  len: number;
}
export interface StoredBlock extends BlockLoc {
  plain: string;
  cipher: string;
}
export interface StoredPeer {
  device: string;
  index: string;
  seq: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, body BLOB NOT NULL, sig BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS records_seq ON records (seq);
CREATE TABLE IF NOT EXISTS local (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL, ino INTEGER NOT NULL, mode INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS peers (device TEXT PRIMARY KEY, idx TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS peer_have (device TEXT NOT NULL, id TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (device, id));
CREATE TABLE IF NOT EXISTS blocks (plain TEXT PRIMARY KEY, cipher TEXT NOT NULL, path TEXT NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS blocks_cipher ON blocks (cipher);
CREATE TABLE IF NOT EXISTS need (id TEXT PRIMARY KEY, body BLOB NOT NULL, sig BLOB NOT NULL);
`;
/** 2: records carry their path (plain-level folders) and the blocks table exists; older databases are filled in once at load. */
const SCHEMA_VERSION = 2;

export interface SaveBatch {
  index: string;
  seq: number;
  records: Array<StoredRecord | { id: string; deleted: true }>;
  blocks: StoredBlock[];
  local: Array<[string, StatInfo | undefined]>;
  peers: StoredPeer[];
  have: Array<[device: string, id: string, hash: string | undefined | null]>;
  /** Records of versions still wanted (null: no longer wanted). */
  need: Array<[id: string, record: { body: Buffer; sig: Buffer } | null]>;
}

export class IndexDb {
  private readonly db: Database.Database;
  private constructor(file: string, readonly = false) {
    if (readonly) {
      // Another process (a CLI beside the running engine) reads the saved index; WAL lets it.
      this.db = new Database(file, { readonly: true, fileMustExist: true });
      this.q = {} as never;
      return;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    fs.chmodSync(file, 0o600);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    const cols = (this.db.prepare('PRAGMA table_info(records)').all() as Array<{ name: string }>).map((c) => c.name);
    if (!cols.includes('path')) this.db.exec('ALTER TABLE records ADD COLUMN path TEXT');
    if (!cols.includes('hash')) this.db.exec('ALTER TABLE records ADD COLUMN hash TEXT; ALTER TABLE records ADD COLUMN size INTEGER; ALTER TABLE records ADD COLUMN del INTEGER');
    this.db.exec('CREATE INDEX IF NOT EXISTS records_path ON records (path)');
    this.q = {
      record: this.db.prepare('SELECT id, seq, body, sig FROM records WHERE id = ?'),
      since: this.db.prepare('SELECT id, seq, body, sig FROM records WHERE seq > ? ORDER BY seq LIMIT ?'),
      count: this.db.prepare('SELECT count(*) AS n FROM records'),
      maxSeq: this.db.prepare('SELECT max(seq) AS s FROM records'),
      pathsUnder: this.db.prepare('SELECT path, id FROM records WHERE path > ? AND path < ?'),
      paths: this.db.prepare('SELECT path, id FROM records WHERE path IS NOT NULL'),
      list: this.db.prepare('SELECT id, path, size, del, hash FROM records ORDER BY seq'),
      local: this.db.prepare('SELECT size, mtime, ino, mode FROM local WHERE path = ?'),
      have: this.db.prepare('SELECT hash FROM peer_have WHERE device = ? AND id = ?'),
      blockPlain: this.db.prepare('SELECT path, off, len FROM blocks WHERE plain = ?'),
      blockCipher: this.db.prepare('SELECT plain, path, off, len FROM blocks WHERE cipher = ?'),
      resetHave: this.db.prepare('DELETE FROM peer_have WHERE device = ?'),
      need: this.db.prepare('SELECT body, sig FROM need WHERE id = ?'),
    };
  }
  private readonly q: Record<'list' | 'record' | 'since' | 'count' | 'maxSeq' | 'pathsUnder' | 'paths' | 'local' | 'have' | 'blockPlain' | 'blockCipher' | 'resetHave' | 'need', Database.Statement>;

  static open(file: string): IndexDb {
    return new IndexDb(file);
  }

  /** The saved index for reading only (holdings, versionsOnlyAt); undefined when the folder was never opened. */
  static openForReading(file: string): IndexDb | undefined {
    return fs.existsSync(file) ? new IndexDb(file, true) : undefined;
  }

  get isEmpty(): boolean {
    return !this.db.prepare('SELECT 1 FROM meta WHERE k = ?').get('index');
  }

  meta(): { index: string; seq: number } | null {
    const i = this.db.prepare('SELECT v FROM meta WHERE k = ?').get('index') as { v: string } | undefined;
    const s = this.db.prepare('SELECT v FROM meta WHERE k = ?').get('seq') as { v: string } | undefined;
    return i ? { index: i.v, seq: Number(s?.v ?? 0) } : null;
  }

  /** Whether rows written by an older version (no paths, no blocks table) must be filled in once. */
  get needsUpgrade(): boolean {
    const v = this.db.prepare('SELECT v FROM meta WHERE k = ?').get('schema') as { v: string } | undefined;
    return Number(v?.v ?? 0) < SCHEMA_VERSION && !!this.meta();
  }
  markUpgraded(): void {
    this.db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v').run('schema', String(SCHEMA_VERSION));
  }

  record(id: string): StoredRecord | undefined {
    return this.q.record.get(id) as StoredRecord | undefined;
  }
  /** Up to `limit` records after sequence `seq`, in ascending sequence. */
  recordsSince(seq: number, limit: number): StoredRecord[] {
    return this.q.since.all(seq, limit) as StoredRecord[];
  }
  recordCount(): number {
    return (this.q.count.get() as { n: number }).n;
  }
  maxSeq(): number {
    return (this.q.maxSeq.get() as { s: number | null }).s ?? 0;
  }
  /** Known paths strictly under folder `dir` (relative, no trailing slash), with their record ids. */
  pathsUnder(dir: string): Array<{ path: string; id: string }> {
    // Every path under `dir/` sorts between `dir/` and `dir0` ('0' follows '/').
    return this.q.pathsUnder.all(dir + '/', dir + '0') as Array<{ path: string; id: string }>;
  }
  /** Every record's listing columns, in sequence order, streamed. */
  *list(): IterableIterator<ListedRecord> {
    yield* this.q.list.iterate() as IterableIterator<ListedRecord>;
  }
  /** Every known path with its record id, streamed. */
  *paths(): IterableIterator<{ path: string; id: string }> {
    yield* this.q.paths.iterate() as IterableIterator<{ path: string; id: string }>;
  }
  /**
   * Every live file (plaintext folders), in no particular order, with which of `devices` hold
   * exactly its current version (one 0/1 column each, in their order), streamed. (device, id) is
   * peer_have's key, so each record costs one lookup per peer; reading in path order instead
   * cost 4× as much (a random row read per file).
   */
  *holdings(devices: readonly string[]): IterableIterator<[path: string, size: number, ...held: Array<number | null>]> {
    const cols = devices.map((_, i) => `, h${i}.hash = r.hash`).join('');
    const joins = devices.map((_, i) => ` LEFT JOIN peer_have h${i} ON h${i}.device = ? AND h${i}.id = r.id`).join('');
    yield* this.db
      .prepare(`SELECT r.path, r.size${cols} FROM records r${joins} WHERE r.del = 0 AND r.path IS NOT NULL`)
      .raw(true)
      .iterate(...devices) as IterableIterator<[string, number, ...Array<number | null>]>;
  }
  /**
   * Versions `device` last said it holds that this index does not hold and none of `others`
   * holds either (versions this index supersedes are not remembered as held: see onRecord).
   * `path` is null where this index never had the file.
   */
  *versionsOnlyAt(device: string, others: readonly string[]): IterableIterator<{ id: string; path: string | null }> {
    yield* this.db
      .prepare(
        `SELECT h.id AS id, r.path AS path FROM peer_have h LEFT JOIN records r ON r.id = h.id
         WHERE h.device = ? AND (r.hash IS NULL OR r.hash <> h.hash)
           AND NOT EXISTS (SELECT 1 FROM peer_have o WHERE o.device IN (SELECT value FROM json_each(?)) AND o.id = h.id AND o.hash = h.hash)`,
      )
      .iterate(device, JSON.stringify(others)) as IterableIterator<{ id: string; path: string | null }>;
  }
  localStat(p: string): StatInfo | undefined {
    return this.q.local.get(p) as StatInfo | undefined;
  }
  haveOf(device: string, id: string): string | undefined {
    return (this.q.have.get(device, id) as { hash: string } | undefined)?.hash;
  }
  /** Forget what we held of a peer's index (it started afresh). */
  resetHave(device: string): void {
    this.q.resetHave.run(device);
  }
  /** The record of a version still wanted. */
  needOf(id: string): { body: Buffer; sig: Buffer } | undefined {
    return this.q.need.get(id) as { body: Buffer; sig: Buffer } | undefined;
  }
  /**
   * Forget every wanted record: wants are not kept across restarts (a peer's sequence is
   * remembered only once all it sent was dealt with, so it sends those records again).
   */
  clearNeed(): void {
    this.db.exec('DELETE FROM need');
  }
  blockByPlain(h: string): BlockLoc | undefined {
    return this.q.blockPlain.get(h) as BlockLoc | undefined;
  }
  blockByCipher(h: string): (BlockLoc & { plain: string }) | undefined {
    return this.q.blockCipher.get(h) as (BlockLoc & { plain: string }) | undefined;
  }

  *local(): IterableIterator<{ path: string } & StatInfo> {
    yield* this.db.prepare('SELECT path, size, mtime, ino, mode FROM local').iterate() as IterableIterator<{ path: string } & StatInfo>;
  }

  peers(): StoredPeer[] {
    return (this.db.prepare('SELECT device, idx, seq FROM peers').all() as Array<{ device: string; idx: string; seq: number }>).map((r) => ({ device: r.device, index: r.idx, seq: r.seq }));
  }

  /** The statements a save runs, prepared once: a save runs every few hundred records, and preparing them each time cost as much as the writes (bench:multinas profile). */
  private writeStatements() {
    return {
      setMeta: this.db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v'),
      putRec: this.db.prepare(
        'INSERT INTO records (id, seq, body, sig, path, hash, size, del) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, body = excluded.body, sig = excluded.sig, path = excluded.path, hash = excluded.hash, size = excluded.size, del = excluded.del',
      ),
      putBlock: this.db.prepare(
        'INSERT INTO blocks (plain, cipher, path, off, len) VALUES (?, ?, ?, ?, ?) ON CONFLICT (plain) DO UPDATE SET cipher = excluded.cipher, path = excluded.path, off = excluded.off, len = excluded.len',
      ),
      delRec: this.db.prepare('DELETE FROM records WHERE id = ?'),
      putLocal: this.db.prepare(
        'INSERT INTO local (path, size, mtime, ino, mode) VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, ino = excluded.ino, mode = excluded.mode',
      ),
      delLocal: this.db.prepare('DELETE FROM local WHERE path = ?'),
      putPeer: this.db.prepare('INSERT INTO peers (device, idx, seq) VALUES (?, ?, ?) ON CONFLICT (device) DO UPDATE SET idx = excluded.idx, seq = excluded.seq'),
      putHave: this.db.prepare('INSERT INTO peer_have (device, id, hash) VALUES (?, ?, ?) ON CONFLICT (device, id) DO UPDATE SET hash = excluded.hash'),
      delHave: this.db.prepare('DELETE FROM peer_have WHERE device = ? AND id = ?'),
      putNeed: this.db.prepare('INSERT INTO need (id, body, sig) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body, sig = excluded.sig'),
      delNeed: this.db.prepare('DELETE FROM need WHERE id = ?'),
    };
  }
  private w: ReturnType<IndexDb['writeStatements']> | undefined;

  /** Write one batch of changes atomically. */
  save(b: SaveBatch): void {
    const blocks = b.blocks;
    const { setMeta, putRec, putBlock, delRec, putLocal, delLocal, putPeer, putHave, delHave, putNeed, delNeed } = (this.w ??= this.writeStatements());
    this.db.transaction(() => {
      setMeta.run('index', b.index);
      setMeta.run('seq', String(b.seq));
      for (const r of b.records) {
        if ('deleted' in r) delRec.run(r.id);
        else putRec.run(r.id, r.seq, r.body, r.sig, r.path ?? null, r.hash ?? null, r.size ?? null, r.del === undefined ? null : r.del ? 1 : 0);
      }
      for (const b of blocks) putBlock.run(b.plain, b.cipher, b.path, b.off, b.len);
      for (const [p, s] of b.local) {
        if (s) putLocal.run(p, s.size, s.mtime, s.ino, s.mode);
        else delLocal.run(p);
      }
      for (const p of b.peers) putPeer.run(p.device, p.index, p.seq);
      for (const [d, id, h] of b.have) {
        if (h) putHave.run(d, id, h);
        else delHave.run(d, id);
      }
      for (const [id, r] of b.need) {
        if (r) putNeed.run(id, r.body, r.sig);
        else delNeed.run(id);
      }
    })();
  }

  close(): void {
    this.db.close();
  }
}
