/**
 * The folder's status: in sync or not, progress and rate, which peers hold a
 * file, and the file list.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FolderState, Progress, Want } from './folder-state.js';
import type { PlainRecord, SealedRecord } from './records.js';
import { now } from './util.js';
import { idOf, scheduleSave } from './index-store.js';

export function isInSync(f: FolderState): boolean {
  if (!f.scannedOnce || f.scanning || f.active > 0) return false;
  let live = 0;
  for (const l of f.links) {
    if (l.conn.closed) continue;
    live++;
    if (!l.fullIndex) return false;
  }
  if (live === 0) return false;
  for (const w of f.wanted.values()) if (w.sources.length > 0 || w.del || isLocal(f, w)) return false;
  return true;
}

export function checkSynced(f: FolderState): void {
  if (f.closed) return;
  const s = isInSync(f);
  if (s && !f.lastSynced) {
    f.lastSynced = true;
    scheduleSave(f); // remembers how far each peer's index is dealt with
    f.emit('folderSynced', { folderId: f.id, peers: [...f.links].filter((l) => !l.conn.closed).length });
  } else if (!s) f.lastSynced = false;
}

export function sampleRate(f: FolderState): void {
  const now = Date.now();
  f.rateSamples.push([now, f.bytesDone]);
  while (f.rateSamples.length > 6) f.rateSamples.shift();
}

export function progress(f: FolderState): Progress {
  let left = 0;
  let files = 0;
  for (const w of f.wanted.values()) {
    files++;
    if (!w.del) left += Math.max(0, w.size - w.doneBytes);
  }
  let rate = 0;
  const first = f.rateSamples[0];
  if (first && now() - first[0] > 0) rate = ((f.bytesDone - first[1]) * 1000) / (now() - first[0]);
  return { bytesDone: f.bytesDone, bytesLeft: left, filesLeft: files, rate: Math.round(rate), inSync: isInSync(f) };
}

/**
 * The connected peers (their device ids) whose index holds this folder's current version of
 * `rel`: a peer announces a record only once the file is complete on its disk. Empty while
 * the local file has changed since the last scan, so a stale version never counts.
 */
export function peersHolding(f: FolderState, rel: string): string[] {
  const id = idOf(f, rel);
  const e = id ? f.entries.get(id) : undefined;
  if (!e?.p || e.p.del) return [];
  const cache = f.local.get(rel);
  const st = fs.lstatSync(path.join(f.root, rel), { throwIfNoEntry: false });
  if (!cache || !st?.isFile() || cache.ino !== st.ino || cache.size !== st.size || cache.mtime !== Math.floor(st.mtimeMs)) return [];
  const out: string[] = [];
  for (const l of f.links) if (!l.conn.closed && l.have.get(e.s.id) === e.s.hash) out.push(l.conn.remoteDevice);
  return out;
}

export function listFiles(f: FolderState): Array<{ path?: string; id: string; size: number; deleted: boolean; version: string }> {
  return f.entries.list().map((r) => {
    const o: { path?: string; id: string; size: number; deleted: boolean; version: string } = { id: r.id, size: r.size, deleted: r.del === 1, version: r.hash };
    if (r.path !== null) o.path = r.path;
    return o;
  });
}

/** Whether every block of a wanted version is already here, worked out once (its record is read back for it). */
export function isLocal(f: FolderState, w: Want): boolean {
  if (w.local === undefined) {
    const r = f.wanted.record(w);
    w.local = !!r && allLocal(f, r.s, r.p);
  }
  return w.local;
}

/** Whether every block of a version is already in some local file. */
export function allLocal(f: FolderState, s: SealedRecord, p: PlainRecord | undefined): boolean {
  if (!p) return s.blocks.length === 0;
  return p.blocks.every((h) => f.blocks.byPlain(h) !== undefined);
}
