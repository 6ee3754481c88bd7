/**
 * Conflict copies in a folder: `name.sync-conflict-YYYYMMDD-HHMMSS-<SHORTID>[-n].ext` (see
 * records.ts conflictName). The copy holds the version that lost; the file at the original name
 * holds the winner. Listing reads both from disk; keeping one asks the host to take the other
 * away (the host decides where it goes: the NAS puts it in its trash, never deletes it), then
 * makes the kept version the file at the original name, which the next scan publishes as a new
 * local edit that every peer takes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { anchoredAt } from '../../anchored-fs/index.js';
import { SyncError } from '../errors.js';

const CONFLICT_RE = /^(.*)\.sync-conflict-(\d{8})-(\d{6})-([0-9A-Z]{1,7})(?:-\d+)?(\.[^./]*)?$/;

export interface ConflictVersion {
  /** Relative to the folder. */
  path: string;
  size: number;
  /** ms since epoch. */
  mtime: number;
}

export interface ConflictInfo {
  /** The losing version, kept aside. */
  copy: ConflictVersion & {
    /** Upper-case short id (7 characters) of the device that kept it aside (where it lost). */
    keptBy: string;
    /** When it was kept aside (from its name), ms since epoch. */
    at: number;
  };
  /** The winner at the original name; null if it was removed since. */
  original: ConflictVersion | null;
}

/** The original name and the copy's stamp, or null when `rel` is no conflict copy. */
export function parseConflictCopy(rel: string): { original: string; at: number; keptBy: string } | null {
  const slash = rel.lastIndexOf('/');
  const m = CONFLICT_RE.exec(rel.slice(slash + 1));
  if (!m) return null;
  const [, stem, d, t, id, ext] = m as unknown as [string, string, string, string, string, string | undefined];
  const at = Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +t.slice(0, 2), +t.slice(2, 4), +t.slice(4, 6));
  return { original: rel.slice(0, slash + 1) + stem + (ext ?? ''), at, keptBy: id };
}

function version(root: string, rel: string): ConflictVersion | null {
  const st = fs.lstatSync(path.join(root, rel), { throwIfNoEntry: false });
  return st?.isFile() ? { path: rel, size: st.size, mtime: Math.floor(st.mtimeMs) } : null;
}

/** Every conflict copy among `paths` (the folder's known, not deleted files) that is on disk. */
export function listConflicts(root: string, paths: Iterable<string>): ConflictInfo[] {
  const out: ConflictInfo[] = [];
  for (const rel of paths) {
    const c = parseConflictCopy(rel);
    if (!c) continue;
    const copy = version(root, rel);
    if (!copy) continue;
    out.push({ copy: { ...copy, keptBy: c.keptBy, at: c.at }, original: version(root, c.original) });
  }
  return out.sort((a, b) => a.copy.path.localeCompare(b.copy.path));
}

/** Which version stays at the original name. */
export type KeepSide = 'copy' | 'original';

/**
 * The host's part of "keep one": take the file at `abs` out of the folder (and keep it
 * somewhere safe). It must be gone from `abs` when the promise resolves.
 */
export type DiscardVersion = (abs: string, rel: string) => Promise<void>;

/**
 * Keep one side of a conflict. Returns the paths that changed, for the caller to rescan.
 * Checks that the copy is a conflict copy on disk before anything moves.
 */
export async function keepConflictSide(root: string, copyRel: string, keep: KeepSide, discard: DiscardVersion): Promise<string[]> {
  const c = parseConflictCopy(copyRel);
  if (!c || !version(root, copyRel)) throw new SyncError('NOT_A_CONFLICT', `${copyRel} is not a conflict copy in this folder`);
  const A = anchoredAt(root);
  if (keep === 'original') {
    await discard(path.join(root, copyRel), copyRel);
    if (A.lstat(copyRel)) throw new SyncError('IO', `the host did not take ${copyRel} away`);
    return [copyRel];
  }
  if (A.lstat(c.original)) {
    await discard(path.join(root, c.original), c.original);
    if (A.lstat(c.original)) throw new SyncError('IO', `the host did not take ${c.original} away`);
  }
  // A rename keeps the inode: the kept bytes are exactly the copy's. A fresh mtime makes the
  // scan see a change even where the copy's mtime equals the old record's.
  A.rename(copyRel, c.original);
  const now = new Date();
  fs.lutimesSync(path.join(root, c.original), now, now); // lutimes: never through a symlink swapped in
  return [copyRel, c.original];
}
