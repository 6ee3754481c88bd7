import fs from 'node:fs';
import path from 'node:path';
import type { TorrentFile } from '../store/torrents-repo.js';
import { BurrowError } from '../errors.js';

export interface SourceFile extends TorrentFile {
  abs: string;
  /** Path inside the torrent (info.files[].path), split on '/'; empty for a single-file torrent. */
  parts: string[];
}

const refuse = (code: string, message: string, hint: string) => new BurrowError(code, message, hint);

/**
 * The files a torrent of files/<rel> holds, in a fixed order (byte order of their paths), with
 * what the piece hashes are checked against later. Symlinks are refused, never followed: a
 * torrent must hold what the store holds, and a link could point out of it.
 */
export function collectSourceFiles(filesRoot: string, rel: string): { kind: 'file' | 'folder'; files: SourceFile[]; totalBytes: number } {
  if (rel === '') throw refuse('BAD_PATH', 'A torrent needs a file or folder, not the whole store.', 'Pick a file or folder.');
  const abs = path.join(filesRoot, rel);
  const st = fs.lstatSync(abs, { throwIfNoEntry: false });
  if (!st) throw refuse('UNKNOWN_PATH', `files/${rel} does not exist.`, 'Refresh the catalogue.');
  if (st.isSymbolicLink()) throw refuse('SYMLINK', `files/${rel} is a symbolic link; Burrow makes torrents only of real files and folders.`, 'Make the torrent of the file the link points to.');
  if (st.isFile()) {
    if (st.size === 0) throw refuse('EMPTY', `files/${rel} is empty (0 bytes); there is nothing to download.`, 'Pick a file with content.');
    return { kind: 'file', files: [{ abs, path: rel, parts: [], size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev }], totalBytes: st.size };
  }
  if (!st.isDirectory()) throw refuse('UNKNOWN_PATH', `files/${rel} is not a file or folder.`, 'Pick a regular file or folder.');
  const files: SourceFile[] = [];
  const walk = (dirAbs: string, parts: string[]) => {
    for (const name of fs.readdirSync(dirAbs).sort()) {
      const a = path.join(dirAbs, name);
      const s = fs.lstatSync(a);
      const p = [...parts, name];
      if (s.isSymbolicLink()) throw refuse('SYMLINK', `files/${rel}/${p.join('/')} is a symbolic link; Burrow makes torrents only of real files and folders.`, 'Remove the link, or make the torrent of what it points to.');
      if (s.isDirectory()) walk(a, p);
      else if (s.isFile()) {
        files.push({ abs: a, path: `${rel}/${p.join('/')}`, parts: p, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, dev: s.dev });
      } else throw refuse('UNKNOWN_PATH', `files/${rel}/${p.join('/')} is not a regular file (a socket, fifo or device).`, 'Remove it from the folder first.');
    }
  };
  walk(abs, []);
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  if (totalBytes === 0) throw refuse('EMPTY', `files/${rel} holds no file with content; a torrent of it would be empty.`, 'Put files in the folder first.');
  return { kind: 'folder', files, totalBytes };
}

/** Whether the file on disk is still what was hashed (same inode, size and mtime, and not a link). */
export function unchanged(abs: string, f: TorrentFile): string | null {
  const st = fs.lstatSync(abs, { throwIfNoEntry: false });
  if (!st) return `files/${f.path} is gone (destroyed, deleted or moved)`;
  if (!st.isFile()) return `files/${f.path} is no longer a regular file`;
  if (st.ino !== f.ino || st.dev !== f.dev) return `files/${f.path} was replaced by another file`;
  if (st.size !== f.size || st.mtimeMs !== f.mtimeMs) return `files/${f.path} changed since its torrent was made`;
  return null;
}
