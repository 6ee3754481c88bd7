/**
 * The block server: answers peers' block requests from the folder's files
 * (plaintext or its deterministic ciphertext) or, in encrypted-storage
 * folders, from the block store. Never reads through a symlink.
 */
import fs from 'node:fs';
import { BlockKind, MsgType, RespStatus } from '../protocol/index.js';
import { encryptBlock } from './records.js';
import { O_READ_NOFOLLOW, type FolderState, type Link } from './folder-state.js';
import { sha256b64 } from './util.js';

/** Open a file of the folder for reading, never through a symlink. */
export function openRead(f: FolderState, rel: string): Promise<fs.promises.FileHandle> {
  return f.fsa.withParentAsync(rel, (at) => fs.promises.open(at, O_READ_NOFOLLOW));
}

export async function serve(f: FolderState, link: Link, id: number, kind: BlockKind, hash: Buffer, size: number): Promise<void> {
  const h = hash.toString('base64');
  let data: Buffer | null = null;
  try {
    if (kind === BlockKind.Cipher) {
      if (!f.plainLevel) data = await f.store!.get(h);
      else {
        const loc = f.blocks.byCipher(h);
        if (loc) {
          const plain = await readAt(f, loc.path, loc.off, loc.len);
          if (plain && sha256b64(plain) === loc.plain) {
            const c = encryptBlock(f.keys, plain, Buffer.from(loc.plain, 'base64'));
            if (sha256b64(c) === h) data = c;
          }
        }
      }
    } else if (f.plainLevel && link.conn.remoteLevel !== 'enc') {
      const loc = f.blocks.byPlain(h);
      if (loc) {
        const plain = await readAt(f, loc.path, loc.off, loc.len);
        if (plain && sha256b64(plain) === h) data = plain;
      }
    }
  } catch {
    data = null;
  }
  void size;
  if (f.closed || link.conn.closed) return;
  if (link.conn.writableLength > 64 * 1024 * 1024) await link.conn.drain();
  if (f.closed || link.conn.closed) return;
  link.conn.send({ type: MsgType.Response, id, status: data ? RespStatus.Ok : RespStatus.NotFound, data: data ?? Buffer.alloc(0) });
}

export async function readAt(f: FolderState, rel: string, off: number, len: number): Promise<Buffer | null> {
  const fh = await openRead(f, rel).catch(() => null);
  if (!fh) return null;
  try {
    const buf = Buffer.allocUnsafe(len);
    const { bytesRead } = await fh.read(buf, 0, len, off);
    return bytesRead === len ? buf : null;
  } finally {
    await fh.close();
  }
}
