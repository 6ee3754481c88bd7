/**
 * The folder's index: its signed records by id and path, the block locations
 * they give, the local stat cache and what we hold of each peer's index, loaded
 * from and saved in batches to the folder's database (index-db.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { nameId, openRecord, verifyRecord, versionBytes, vvCompare, type PlainRecord, type SealedRecord } from './records.js';
import { IndexDb, type SaveBatch, type StoredRecord } from './index-db.js';
import { BlockTable, RecordTable, haveTable, localTable, needTable } from './tables.js';
import { Wanted } from './wanted.js';
import type { FolderState, Entry, Link } from './folder-state.js';
import { SyncError } from '../errors.js';

/** How far past the saved sequence a loaded index goes on (more than can be announced between two saves). */
const SEQ_GAP_AFTER_LOAD = 1_000_000_000;
/** After a save failed (a full disk), the next try waits this long. */
const SAVE_RETRY_MS = 1000;

export function dbFile(f: FolderState): string {
  return f.stateFile.replace(/\.json$/, '') + '.db';
}

export async function load(f: FolderState): Promise<void> {
  // A fresh index id unless a saved index (with its sequences) is read below.
  f.indexId = crypto.randomBytes(8).toString('hex');
  const db = IndexDb.open(dbFile(f));
  f.db = db;
  const saveAll = (): boolean => flush(f);
  f.entries = new RecordTable(db, (r) => parseEntry(f, r), saveAll);
  f.local = localTable(db, saveAll);
  f.blocks = new BlockTable(db, saveAll);
  f.need = needTable(db, saveAll);
  f.wanted = new Wanted(f.need, (w) => parseEntry(f, { id: '', seq: 0, body: w.body, sig: w.sig }));
  db.clearNeed();
  const meta = db.meta();
  if (!meta) {
    // First start with a database: import a JSON state file of an earlier version once.
    await loadJson(f);
    saveNow(f);
    db.markUpgraded();
    if (f.seq > 0) await fs.promises.unlink(f.stateFile).catch(() => undefined);
    return;
  }
  f.indexId = meta.index;
  // Sequences are announced at once but saved in batches a little later, so after a crash peers
  // may have seen numbers the database never got. Reusing them would hide new records from a peer
  // that asks for "what is newer than what I saw": go on well past them (saved at once, below).
  f.seq = Math.max(db.maxSeq(), meta.seq) + SEQ_GAP_AFTER_LOAD;
  if (db.needsUpgrade) {
    // A database of the previous version: give its records their paths and fill the block table, once.
    for (const e of f.entries.since(0)) {
      f.entries.set(e.s.id, e);
      putBlocks(f, e.s, e.p);
    }
    saveNow(f);
    db.markUpgraded();
  }
  for (const pr of db.peers()) f.remotes.set(pr.device, { index: pr.index, seq: pr.seq, have: haveTable(db, pr.device, saveAll) });
  // Saved before anything is announced, so the next load (after a crash too) starts past it.
  // Without that (a full disk) nothing may be announced: the folder does not open.
  if (!flush(f)) {
    db.close();
    f.db = null;
    throw new SyncError('IO', `cannot write the folder's index in ${dbFile(f)} (is the disk full?); free some space and start again`);
  }
}

/** A stored row back into an entry; every record was verified before it was saved (the database is the engine's own, owner-only). */
function parseEntry(f: FolderState, r: StoredRecord): Entry | undefined {
  try {
    const s = verifyRecord(f.keys, { body: r.body, sig: r.sig }, { trusted: true });
    const e: Entry = { s, seq: r.seq };
    if (f.plainLevel) e.p = openRecord(f.keys, s);
    return e;
  } catch (e) {
    f.err(e as Error);
    return undefined;
  }
}

/** The JSON state file of protocol 2 and 3 before the database (read once, then removed). */
export async function loadJson(f: FolderState): Promise<void> {
  let raw: string;
  try {
    raw = await fs.promises.readFile(f.stateFile, 'utf8');
  } catch {
    return;
  }
  const st = JSON.parse(raw) as SavedState;
  const sequenced = st.v === 2 && typeof st.index === 'string' && /^[0-9a-f]{16}$/.test(st.index);
  // Entries are saved in sequence order, so installing them in order keeps each one's sequence.
  for (const [b, s, seq] of st.entries) {
    try {
      // Every record was verified before it was saved; the state file is the engine's own (owner-only).
      const sealed = verifyRecord(f.keys, { body: Buffer.from(b, 'base64'), sig: Buffer.from(s, 'base64') }, { trusted: true });
      const p = f.plainLevel ? openRecord(f.keys, sealed) : undefined;
      if (sequenced && typeof seq === 'number' && seq > f.seq) f.seq = seq - 1;
      install(f, sealed, p, false);
    } catch (e) {
      f.err(e as Error);
    }
  }
  for (const [p, size, mtime, ino, mode] of st.local ?? []) f.local.set(p, { size, mtime, ino, mode });
  if (!sequenced) return; // a version 1 state: peers remember nothing of it
  f.indexId = st.index!;
  f.seq = Math.max(f.seq, st.seq ?? 0);
  for (const [device, r] of Object.entries(st.peers ?? {})) {
    const have = haveTable(f.db!, device, () => flush(f));
    for (const [id, h] of r.have) {
      const hash = h || f.entries.get(id)?.s.hash;
      if (hash) have.set(id, hash);
    }
    f.remotes.set(device, { index: r.index, seq: r.seq, have });
  }
}

export function scheduleSave(f: FolderState): void {
  if (f.saveTimer || f.closed) return;
  f.saveTimer = setTimeout(() => {
    f.saveTimer = null;
    void save(f).catch((e) => f.err(e as Error));
  }, 3000);
}

/** Write what changed since the last save (records, blocks, stat cache, peers' indexes) in one transaction. */
export async function save(f: FolderState): Promise<void> {
  saveNow(f);
}

/** Save, first remembering how far each connected peer's index is dealt with. */
export function saveNow(f: FolderState): void {
  for (const l of f.links) if (l.remote && doneWith(f, l)) l.remote.seq = Math.max(l.remote.seq, l.recvSeq);
  flush(f);
}

/**
 * Write the pending changes as they are (also when a table's pending changes
 * fill up, and before reading the records in sequence order): cheap, since it
 * does not look at the versions still wanted. False when they could not be
 * written (a full disk): they stay pending, in memory, and the next save tries
 * again (at most once a second), so nothing is lost and the engine keeps running
 * (it used to crash on SQLITE_FULL in the middle of a broadcast).
 */
export function flush(f: FolderState): boolean {
  const db = f.db;
  if (!db) return true;
  if (f.unsavedSince !== null && Date.now() - f.lastSaveTry < SAVE_RETRY_MS) return false;
  f.lastSaveTry = Date.now();
  const blocks = f.blocks.take();
  const need = f.need.take();
  const entries = f.entries.take();
  const local = f.local.take();
  const have = [...f.remotes].map(([device, r]) => [device, r, r.have.take()] as const);
  const batch: SaveBatch = { index: f.indexId, seq: f.seq, records: [], blocks, local: [], peers: [], have: [], need };
  for (const [id, e] of entries) batch.records.push(
      e
        ? { id, seq: e.seq, body: e.s.body, sig: e.s.sig, path: e.p?.path ?? null, hash: e.s.hash, size: versionBytes(e.s, e.p), del: e.s.del }
        : { id, deleted: true },
    );
  for (const [p, st] of local) batch.local.push([p, st ?? undefined]);
  for (const [device, r, taken] of have) {
    batch.peers.push({ device, index: r.index, seq: r.seq });
    for (const [id, h] of taken) batch.have.push([device, id, h]);
  }
  try {
    db.save(batch);
  } catch (e) {
    f.blocks.restore(blocks);
    f.need.restore(need);
    f.entries.restore(entries);
    f.local.restore(local);
    for (const [, r, taken] of have) r.have.restore(taken);
    if (f.unsavedSince === null) {
      f.unsavedSince = Date.now();
      f.err(new SyncError('IO', `cannot save the folder's index (${(e as Error).message}); changes are kept in memory and saved once there is room`));
    }
    return false;
  }
  f.unsavedSince = null;
  return true;
}

/**
 * Whether every record this peer sent has been dealt with (applied, or
 * decided against): only then may its sequence be remembered, since the
 * versions we still want are not kept across restarts and a delta would not resend them.
 */
export function doneWith(f: FolderState, link: Link): boolean {
  for (const w of f.wanted.values()) {
    if (w.sources.includes(link)) return false;
    if (w.next?.sources.includes(link)) return false;
  }
  return true;
}

/** Put a verified record into the index. */
export function install(f: FolderState, s: SealedRecord, p: PlainRecord | undefined, announce = true): void {
  const e: Entry = { s, seq: ++f.seq };
  if (p) e.p = p;
  const prev = f.entries.get(s.id);
  f.entries.set(s.id, e);
  // A peer that held the version this one supersedes now holds an old copy, which is as good as
  // nothing: no one wants it from it, and a host asking what only that peer holds (a NAS member's
  // removal, holdings.ts) must not count it. Peers that are offline are told too (their table is saved).
  if (prev && prev.s.hash !== s.hash && vvCompare(prev.s.vv, s.vv) === 'lesser')
    for (const r of f.remotes.values()) if (r.have.get(s.id) === prev.s.hash) r.have.delete(s.id);
  putBlocks(f, s, p);
  if (announce) {
    f.scheduleBroadcast();
    scheduleSave(f);
  }
}

/** Where the blocks of this version can be read locally (for reuse by other files, and for serving). */
function putBlocks(f: FolderState, s: SealedRecord, p: PlainRecord | undefined): void {
  if (!p || p.del) return;
  for (let i = 0; i < p.blocks.length; i++) {
    const off = i * p.bs;
    f.blocks.put({ plain: p.blocks[i]!, cipher: s.blocks[i]![0], path: p.path, off, len: Math.min(p.bs, p.size - off) });
  }
}

/** Which record (if any) holds this path: a record's id is the keyed hash of its path (plain-level folders). */
export function idOf(f: FolderState, rel: string): string | undefined {
  if (!f.plainLevel) return undefined;
  const id = nameId(f.keys, rel);
  return f.entries.get(id)?.p?.path === rel ? id : undefined;
}

/** The state file (JSON) of earlier versions: the index in sequence order, local stat cache, and what we hold of each peer's index. */
interface SavedState {
  v: 1 | 2;
  index?: string;
  seq?: number;
  entries: Array<[string, string, number?]>;
  local?: Array<[string, number, number, number, number]>;
  peers?: Record<string, { index: string; seq: number; have: Array<[string, string]> }>;
}
