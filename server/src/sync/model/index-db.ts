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

/** A Map that remembers which keys were set or deleted since the last save. */
export class TrackedMap<K, V> extends Map<K, V> {
  readonly dirty = new Set<K>();
  override set(k: K, v: V): this {
    this.dirty?.add(k); // undefined only while Map's constructor runs
    return super.set(k, v);
  }
  override delete(k: K): boolean {
    this.dirty.add(k);
    return super.delete(k);
  }
  override clear(): void {
    for (const k of this.keys()) this.dirty.add(k);
    super.clear();
  }
}

export interface StoredRecord {
  id: string;
  seq: number;
  body: Buffer;
  sig: Buffer;
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
`;

export interface SaveBatch {
  index: string;
  seq: number;
  records: Array<StoredRecord | { id: string; deleted: true }>;
  local: Array<[string, StatInfo | undefined]>;
  peers: StoredPeer[];
  /** Peers whose index started afresh: their old rows go first. */
  resetPeers: string[];
  have: Array<[device: string, id: string, hash: string | undefined]>;
}

export class IndexDb {
  private readonly db: Database.Database;
  private constructor(file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    fs.chmodSync(file, 0o600);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
  }

  static open(file: string): IndexDb {
    return new IndexDb(file);
  }

  get isEmpty(): boolean {
    return !this.db.prepare('SELECT 1 FROM meta WHERE k = ?').get('index');
  }

  meta(): { index: string; seq: number } | null {
    const i = this.db.prepare('SELECT v FROM meta WHERE k = ?').get('index') as { v: string } | undefined;
    const s = this.db.prepare('SELECT v FROM meta WHERE k = ?').get('seq') as { v: string } | undefined;
    return i ? { index: i.v, seq: Number(s?.v ?? 0) } : null;
  }

  /** Records in ascending sequence, streamed. */
  *records(): IterableIterator<StoredRecord> {
    yield* this.db.prepare('SELECT id, seq, body, sig FROM records ORDER BY seq').iterate() as IterableIterator<StoredRecord>;
  }

  *local(): IterableIterator<{ path: string } & StatInfo> {
    yield* this.db.prepare('SELECT path, size, mtime, ino, mode FROM local').iterate() as IterableIterator<{ path: string } & StatInfo>;
  }

  peers(): StoredPeer[] {
    return (this.db.prepare('SELECT device, idx, seq FROM peers').all() as Array<{ device: string; idx: string; seq: number }>).map((r) => ({ device: r.device, index: r.idx, seq: r.seq }));
  }

  *have(device: string): IterableIterator<{ id: string; hash: string }> {
    yield* this.db.prepare('SELECT id, hash FROM peer_have WHERE device = ?').iterate(device) as IterableIterator<{ id: string; hash: string }>;
  }

  /** Write one batch of changes atomically. */
  save(b: SaveBatch): void {
    const setMeta = this.db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v');
    const putRec = this.db.prepare('INSERT INTO records (id, seq, body, sig) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, body = excluded.body, sig = excluded.sig');
    const delRec = this.db.prepare('DELETE FROM records WHERE id = ?');
    const putLocal = this.db.prepare(
      'INSERT INTO local (path, size, mtime, ino, mode) VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, ino = excluded.ino, mode = excluded.mode',
    );
    const delLocal = this.db.prepare('DELETE FROM local WHERE path = ?');
    const putPeer = this.db.prepare('INSERT INTO peers (device, idx, seq) VALUES (?, ?, ?) ON CONFLICT (device) DO UPDATE SET idx = excluded.idx, seq = excluded.seq');
    const resetHave = this.db.prepare('DELETE FROM peer_have WHERE device = ?');
    const putHave = this.db.prepare('INSERT INTO peer_have (device, id, hash) VALUES (?, ?, ?) ON CONFLICT (device, id) DO UPDATE SET hash = excluded.hash');
    const delHave = this.db.prepare('DELETE FROM peer_have WHERE device = ? AND id = ?');
    this.db.transaction(() => {
      setMeta.run('index', b.index);
      setMeta.run('seq', String(b.seq));
      for (const r of b.records) {
        if ('deleted' in r) delRec.run(r.id);
        else putRec.run(r.id, r.seq, r.body, r.sig);
      }
      for (const [p, s] of b.local) {
        if (s) putLocal.run(p, s.size, s.mtime, s.ino, s.mode);
        else delLocal.run(p);
      }
      for (const d of b.resetPeers) resetHave.run(d);
      for (const p of b.peers) putPeer.run(p.device, p.index, p.seq);
      for (const [d, id, h] of b.have) {
        if (h) putHave.run(d, id, h);
        else delHave.run(d, id);
      }
    })();
  }

  close(): void {
    this.db.close();
  }
}
