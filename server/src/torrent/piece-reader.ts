import fs from 'node:fs';
import crypto from 'node:crypto';
import type { AnchoredDir } from '../anchored-fs/index.js';
import type { TorrentFile } from '../store/torrents-repo.js';

/** One file of a served torrent, at its byte offset in the torrent's concatenation. */
export interface PlacedFile extends TorrentFile {
  offset: number;
}

/** A piece's bytes do not match the torrent any more (file changed, replaced or gone). */
export class PieceMismatch extends Error {}

/** Whether the open file is still the one that was hashed (same inode, size and mtime). */
export function mismatch(st: fs.Stats, f: TorrentFile): string | null {
  if (st.ino !== f.ino || st.dev !== f.dev) return `files/${f.path} was replaced by another file`;
  if (st.size !== f.size || st.mtimeMs !== f.mtimeMs) return `files/${f.path} changed since its torrent was made`;
  return null;
}

const readAt = (fd: number, buf: Buffer, off: number, len: number, pos: number) =>
  new Promise<number>((resolve, reject) => fs.read(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));

/**
 * Memory for verified pieces, per torrent: a client asks for a piece block by block, and keeps
 * requests for several pieces in flight, so the cache must hold all of them or it re-reads.
 */
const KEEP_BYTES = 16 * 1024 * 1024;

/**
 * Reads whole pieces of a torrent from the store and checks each against its SHA-1 before any
 * byte of it goes out on the peer wire: the NAS never serves bytes that do not match the torrent.
 * Files are opened through anchored-fs (no symlink followed) and fstat-checked against what was
 * hashed. A few verified pieces are kept, since a client fetches a piece in 16 KiB blocks.
 */
export class PieceReader {
  private readonly cache = new Map<number, Promise<Buffer>>();

  constructor(
    private readonly store: AnchoredDir,
    private readonly files: PlacedFile[],
    private readonly pieceLength: number,
    private readonly totalBytes: number,
    private readonly hashes: Buffer,
  ) {}

  get pieceCount(): number {
    return this.hashes.length / 20;
  }

  pieceSize(index: number): number {
    return Math.min(this.pieceLength, this.totalBytes - index * this.pieceLength);
  }

  /** The verified piece, or a PieceMismatch saying which file no longer matches. */
  piece(index: number): Promise<Buffer> {
    let p = this.cache.get(index);
    if (p) {
      this.cache.delete(index);
      this.cache.set(index, p); // most recently used last
      return p;
    }
    p = this.readVerified(index);
    this.cache.set(index, p);
    p.catch(() => this.cache.delete(index));
    const keep = Math.max(4, Math.floor(KEEP_BYTES / this.pieceLength));
    while (this.cache.size > keep) this.cache.delete(this.cache.keys().next().value!);
    return p;
  }

  private async readVerified(index: number): Promise<Buffer> {
    const start = index * this.pieceLength;
    const size = this.pieceSize(index);
    const buf = Buffer.allocUnsafe(size);
    for (const f of this.files) {
      const a = Math.max(start, f.offset);
      const b = Math.min(start + size, f.offset + f.size);
      if (a >= b) continue;
      let fd: number;
      try {
        fd = this.store.openFile(f.path, fs.constants.O_RDONLY);
      } catch {
        throw new PieceMismatch(`files/${f.path} is gone (destroyed, deleted or moved)`);
      }
      try {
        const why = mismatch(fs.fstatSync(fd), f);
        if (why) throw new PieceMismatch(why);
        let done = 0;
        while (done < b - a) {
          const n = await readAt(fd, buf, a - start + done, b - a - done, a - f.offset + done);
          if (n === 0) throw new PieceMismatch(`files/${f.path} is shorter than when its torrent was made`);
          done += n;
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    const want = this.hashes.subarray(index * 20, index * 20 + 20);
    if (!crypto.createHash('sha1').update(buf).digest().equals(want)) {
      const names = this.files.filter((f) => f.offset < start + size && f.offset + f.size > start).map((f) => `files/${f.path}`);
      throw new PieceMismatch(`piece ${index} (${names.join(', ')}) no longer matches its hash: the file changed since its torrent was made`);
    }
    return buf;
  }
}
