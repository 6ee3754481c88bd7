/**
 * Folder scanner: walks a folder, and hashes the files whose size, mtime or
 * inode changed since the last scan, block by block (SHA-256 of each
 * plaintext block, plus the hash of its deterministic ciphertext, so the
 * record can be signed for encrypted peers too). It skips the engine's own
 * `.burrow-sync/` directory, symlinks and special files.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FolderKeys } from '../secrets/index.js';
import { blockSizeFor, encryptBlock } from './records.js';

export interface StatInfo {
  size: number;
  mtime: number; // ms, integer
  ino: number;
  mode: number;
}

export interface HashedFile extends StatInfo {
  bs: number;
  blocks: string[];
  cipher: Array<[string, number]>;
}

export const META_DIR = '.burrow-sync';

/**
 * List regular files under root as relative POSIX paths with their stats.
 * `isFolderRoot` is false when walking a subfolder (a watcher rescan): only
 * the synced folder's own root holds the engine's `.burrow-sync`, and a user
 * folder of that name deeper down is ordinary content.
 */
export async function walk(root: string, isFolderRoot = true): Promise<Map<string, StatInfo>> {
  const out = new Map<string, StatInfo>();
  const stack: string[] = [''];
  let sinceYield = 0;
  while (stack.length) {
    const rel = stack.pop()!;
    let ents: fs.Dirent[];
    try {
      // One folder at a time, synchronously: a promise per lstat cost more than the lstat itself
      // (the restart of a 100,000-file peer waits for this walk). Other work runs between folders.
      ents = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of ents) {
      const r = rel ? rel + '/' + e.name : e.name;
      if (isFolderRoot && !rel && e.name === META_DIR) continue;
      if (e.name.includes('\\')) continue;
      if (e.isDirectory()) stack.push(r);
      else if (e.isFile()) {
        const st = fs.lstatSync(path.join(root, r), { throwIfNoEntry: false });
        if (st && st.isFile()) out.set(r, { size: st.size, mtime: Math.floor(st.mtimeMs), ino: st.ino, mode: st.mode & 0o777 });
      }
    }
    sinceYield += ents.length;
    if (sinceYield >= 2000) {
      sinceYield = 0;
      await new Promise((res) => setImmediate(res));
    }
  }
  return out;
}

/** Hash one file. Returns null if it changed or vanished while being read. */
export async function hashFile(open: string | (() => Promise<fs.promises.FileHandle>), keys: FolderKeys): Promise<HashedFile | null> {
  let fh: fs.promises.FileHandle;
  try {
    fh = typeof open === 'string' ? await fs.promises.open(open, 'r') : await open();
  } catch {
    return null;
  }
  try {
    const st = await fh.stat();
    const bs = blockSizeFor(st.size);
    const blocks: string[] = [];
    const cipher: Array<[string, number]> = [];
    const buf = Buffer.allocUnsafe(Math.min(bs, Math.max(st.size, 1)));
    let off = 0;
    while (off < st.size) {
      const want = Math.min(bs, st.size - off);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, off + got);
        if (bytesRead === 0) return null; // shrank
        got += bytesRead;
      }
      const block = buf.subarray(0, want);
      const h = crypto.createHash('sha256').update(block).digest();
      blocks.push(h.toString('base64'));
      const c = encryptBlock(keys, block, h);
      cipher.push([crypto.createHash('sha256').update(c).digest('base64'), c.length]);
      off += want;
    }
    const st2 = await fh.stat();
    if (st2.size !== st.size || st2.mtimeMs !== st.mtimeMs) return null;
    return { size: st.size, mtime: Math.floor(st.mtimeMs), ino: st.ino, mode: st.mode & 0o777, bs, blocks, cipher };
  } finally {
    await fh.close();
  }
}
