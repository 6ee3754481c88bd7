/**
 * The folder's index: its signed records by id and path, the block locations
 * they give, the local stat cache and what we hold of each peer's index, loaded
 * from and saved in batches to the folder's database (index-db.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { openRecord, verifyRecord, type PlainRecord, type SealedRecord } from './records.js';
import { IndexDb, TrackedMap, type SaveBatch } from './index-db.js';
import type { FolderState, Entry, Link, Want } from './folder-state.js';

export function dbFile(f: FolderState): string {
  return f.stateFile.replace(/\.json$/, '') + '.db';
}

export async function load(f: FolderState): Promise<void> {
  // A fresh index id unless a saved index (with its sequences) is read below.
  f.indexId = crypto.randomBytes(8).toString('hex');
  const db = IndexDb.open(dbFile(f));
  f.db = db;
  const meta = db.meta();
  if (!meta) {
    // First start with a database: import a JSON state file of an earlier version once.
    await loadJson(f);
    if (f.entries.size || f.local.size) {
      await save(f);
      await fs.promises.unlink(f.stateFile).catch(() => undefined);
    }
    return;
  }
  for (const r of db.records()) {
    try {
      // Every record was verified before it was saved; the database is the engine's own (owner-only).
      const sealed = verifyRecord(f.keys, { body: r.body, sig: r.sig }, { trusted: true });
      const p = f.plainLevel ? openRecord(f.keys, sealed) : undefined;
      f.seq = r.seq - 1;
      install(f, sealed, p, false);
    } catch (e) {
      f.err(e as Error);
    }
  }
  for (const l of db.local()) f.local.set(l.path, { size: l.size, mtime: l.mtime, ino: l.ino, mode: l.mode });
  f.indexId = meta.index;
  f.seq = Math.max(f.seq, meta.seq);
  for (const pr of db.peers()) {
    const have = new TrackedMap<string, string>();
    for (const h of db.have(pr.device)) have.set(h.id, h.hash);
    have.dirty.clear();
    f.remotes.set(pr.device, { index: pr.index, seq: pr.seq, have });
  }
  f.entries.dirty.clear();
  f.local.dirty.clear();
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
    const have = new TrackedMap<string, string>();
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

/** Write what changed since the last save (records, stat cache, peers' indexes) in one transaction. */
export async function save(f: FolderState): Promise<void> {
  const db = f.db;
  if (!db) return;
  for (const l of f.links) if (l.remote && doneWith(f, l)) l.remote.seq = Math.max(l.remote.seq, l.recvSeq);
  const batch: SaveBatch = { index: f.indexId, seq: f.seq, records: [], local: [], peers: [], resetPeers: [...f.resetPeers], have: [] };
  for (const id of f.entries.dirty) {
    const e = f.entries.get(id);
    batch.records.push(e ? { id, seq: e.seq, body: e.s.body, sig: e.s.sig } : { id, deleted: true });
  }
  for (const p of f.local.dirty) batch.local.push([p, f.local.get(p)]);
  for (const [device, r] of f.remotes) {
    batch.peers.push({ device, index: r.index, seq: r.seq });
    for (const id of r.have.dirty) batch.have.push([device, id, r.have.get(id)]);
  }
  db.save(batch);
  f.entries.dirty.clear();
  f.local.dirty.clear();
  for (const r of f.remotes.values()) r.have.dirty.clear();
  f.resetPeers.clear();
}

/**
 * Whether every record this peer sent has been dealt with (applied, or
 * decided against): only then may its sequence be remembered, since the
 * versions we still want live in memory only and a delta would not resend them.
 */
export function doneWith(f: FolderState, link: Link): boolean {
  for (const w of f.wanted.values()) {
    if (w.sources.has(link)) return false;
    const next = (w as Want & { next?: Want }).next;
    if (next?.sources.has(link)) return false;
  }
  return true;
}

/** Put a verified record into the index. */
export function install(f: FolderState, s: SealedRecord, p: PlainRecord | undefined, announce = true): void {
  const prev = f.entries.get(s.id);
  if (prev?.p && prev.p.path !== p?.path) f.byPath.delete(prev.p.path);
  const e: Entry = { s, seq: ++f.seq };
  if (p) e.p = p;
  f.entries.set(s.id, e);
  f.log.push(s.id);
  if (p) {
    f.byPath.set(p.path, s.id);
    if (!p.del) {
      for (let i = 0; i < p.blocks.length; i++) {
        const off = i * p.bs;
        const len = Math.min(p.bs, p.size - off);
        const loc = { path: p.path, off, len };
        f.blockIndex.set(p.blocks[i]!, loc);
        f.cipherIndex.set(s.blocks[i]![0], { ...loc, plain: p.blocks[i]! });
      }
    }
  }
  if (announce) {
    f.scheduleBroadcast();
    scheduleSave(f);
  }
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
