import fs from 'node:fs';
import { parentOf, type EntryKind, type EntryRow, type StoredChild } from '../store/entries-repo.js';

/** lstat one path into an index row (never follows symlinks). Missing → null; unreadable → an 'error' row. */
export function statRow(area: string, rel: string, abs: string): EntryRow | null {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(abs, { throwIfNoEntry: false });
  } catch (err) {
    return errorRow(area, rel, err);
  }
  if (!st) return null;
  return rowFromStats(area, rel, abs, st);
}

export function rowFromStats(area: string, rel: string, abs: string, st: fs.Stats): EntryRow {
  const kind: EntryKind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  let linkTarget: string | null = null;
  if (kind === 'symlink') {
    try {
      linkTarget = fs.readlinkSync(abs);
    } catch {
      linkTarget = null;
    }
  }
  return {
    area,
    path: rel,
    parent: parentOf(rel),
    kind,
    size: kind === 'file' ? st.size : 0,
    mtime_ms: st.mtimeMs,
    ino: st.ino,
    dev: st.dev,
    nlink: st.nlink,
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    link_target: linkTarget,
    error: null,
  };
}

export function errorRow(area: string, rel: string, err: unknown): EntryRow {
  const e = err as NodeJS.ErrnoException;
  return {
    area,
    path: rel,
    parent: parentOf(rel),
    kind: 'error',
    size: 0,
    mtime_ms: 0,
    ino: 0,
    dev: 0,
    nlink: 0,
    mode: 0,
    uid: 0,
    gid: 0,
    link_target: null,
    error: `${e.code ?? 'ERROR'}: ${e.message}`,
  };
}

/** Did anything the index cares about change? */
export function sameRow(a: EntryRow, b: EntryRow): boolean {
  return (
    a.kind === b.kind && a.size === b.size && a.mtime_ms === b.mtime_ms && a.ino === b.ino && a.dev === b.dev && a.nlink === b.nlink &&
    a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.error === b.error && a.link_target === b.link_target
  );
}

/**
 * Does a stored child still describe this lstat? The reconcile's hot path: numbers only, no
 * allocation. Symlinks and error rows answer false so the caller builds a full row (a symlink's
 * target needs a readlink) and compares with sameRow.
 */
export function storedMatchesStats(old: StoredChild, st: fs.Stats): boolean {
  const kind = old[1];
  if (kind === 'file') {
    if (!st.isFile() || old[2] !== st.size) return false;
  } else if (kind === 'dir') {
    if (!st.isDirectory()) return false;
  } else if (kind === 'other') {
    if (st.isFile() || st.isDirectory() || st.isSymbolicLink()) return false;
  } else {
    return false;
  }
  return old[3] === st.mtimeMs && old[4] === st.ino && old[5] === st.dev && old[6] === st.nlink && old[7] === st.mode && old[8] === st.uid && old[9] === st.gid && old[11] === null;
}

/** A stored child tuple as a full row (the slow path, only for entries that look changed). */
export function storedToRow(area: string, parent: string, c: StoredChild): EntryRow {
  return {
    area,
    path: c[0],
    parent,
    kind: c[1],
    size: c[2],
    mtime_ms: c[3],
    ino: c[4],
    dev: c[5],
    nlink: c[6],
    mode: c[7],
    uid: c[8],
    gid: c[9],
    link_target: c[10],
    error: c[11],
  };
}
