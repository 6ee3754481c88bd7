/**
 * What a received version does to ours: replace it, lose to it, or conflict
 * with it (the loser kept aside as a conflict copy when it is a local edit),
 * and putting a fully received file in place.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SyncError } from '../errors.js';
import { conflictName, pickWinner, vvCompare, type PlainRecord, type SealedRecord } from './records.js';
import type { StatInfo } from './scanner.js';
import { TMP_REL, type FolderState, type HeldWant, type FileEvent } from './folder-state.js';
import { fileMode, sameContent } from './util.js';
import { install } from './index-store.js';
import { scan } from './local-scan.js';

/**
 * Should a remote version replace our entry, and must our local version be
 * kept aside as a conflict copy? null: ours is the same, newer or the winner.
 */
export function decide(f: FolderState, s: SealedRecord, p: PlainRecord | undefined): { keepLocal: boolean } | null {
  const cur = f.entries.get(s.id);
  if (!cur) return { keepLocal: false };
  if (cur.s.hash === s.hash) return null;
  const o = vvCompare(s.vv, cur.s.vv);
  if (o === 'lesser' || o === 'equal') return null;
  if (o === 'greater') return { keepLocal: false };
  // Our version wins: keep its record exactly as signed. Re-signing it with
  // the merged version vector would claim it had seen the loser's edit,
  // and would then replace that edit on every peer with no conflict copy.
  if (pickWinner({ s: cur.s, ...(cur.p ? { p: cur.p } : {}) }, { s, ...(p ? { p } : {}) }) === 'a') return null;
  return { keepLocal: f.canPublish && !!cur.p && !cur.p.del && !(p && sameContent(cur.p, p)) };
}

/** Put a fully verified temp file in place: keep a conflicting local version aside, then rename. */
export function finishFile(f: FolderState, w: HeldWant, p: PlainRecord, tmp: string, st: fs.Stats, cache: StatInfo | undefined): void {
  const rel = p.path;
  const tmpRel = TMP_REL + '/' + path.basename(tmp);
  const slash = rel.lastIndexOf('/');
  if (slash > 0) f.fsa.mkdirp(rel.slice(0, slash));
  // Re-check the target right before replacing it.
  const cs2 = f.fsa.lstat(rel);
  const changed2 = cs2 && !(cache && cs2.isFile() && cache.size === cs2.size && cache.mtime === Math.floor(cs2.mtimeMs) && cache.ino === cs2.ino);
  let conflictCopy: string | undefined;
  if (cs2 && f.canPublish && (w.keepLocal || changed2)) {
    conflictCopy = conflictName(rel, new Date(), f.device);
    // Never rename over an earlier conflict copy of the same second.
    for (let i = 2; f.fsa.exists(conflictCopy); i++) conflictCopy = conflictName(rel, new Date(), f.device, i);
    f.fsa.rename(rel, conflictCopy);
  } else if (cs2 && cs2.isDirectory()) {
    f.fsa.unlink(tmpRel);
    throw new SyncError('IO', `cannot replace directory ${rel} with a file`);
  }
  f.fsa.rename(tmpRel, rel); // never writes into an existing inode
  f.local.set(rel, { size: st.size, mtime: Math.floor(st.mtimeMs), ino: st.ino, mode: st.mode & 0o777 });
  installRemote(f, w, p);
  const ev: FileEvent = { folderId: f.id, path: rel, size: p.size, mtime: p.mtime, mode: fileMode(p.mode), version: w.s.hash };
  if (conflictCopy) ev.conflictCopy = conflictCopy;
  f.emit('fileChanged', ev);
  if (conflictCopy) void scan(f, [path.join(f.root, conflictCopy)]);
}

/** The loser of a conflict adopts the winner's record as signed (as Syncthing does), so every peer converges on it. */
export function installRemote(f: FolderState, w: HeldWant, p: PlainRecord): void {
  install(f, w.s, p);
}
