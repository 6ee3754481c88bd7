import fs from 'node:fs';
import { parentOf, type EntryKind, type EntryRow } from '../store/entries-repo.js';

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
