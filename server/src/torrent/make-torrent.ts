import crypto from 'node:crypto';
import path from 'node:path';
import type { BurrowConfig } from '../config/schema.js';
import type { NewTorrent, TorrentKind } from '../store/torrents-repo.js';
import { collectSourceFiles, unchanged } from './source-files.js';
import { pieceLengthFor } from './piece-length.js';
import { hashPieces } from './hash-pieces.js';
import { buildMetainfo, magnetLink } from './metainfo.js';
import { announceUrl, torrentBaseUrl, torrentFileUrl, webSeedUrl } from './public-url.js';
import { BurrowError } from '../errors.js';

export interface MadeTorrent {
  row: NewTorrent;
  magnet: string;
  webSeed: string;
  announce: string;
  torrentUrl: string;
}

/**
 * Hash files/<rel> into a .torrent whose sources are the NAS's web seed and its tracker (which
 * lists the NAS itself as the seed). The files are
 * listed (size, mtime, inode) before hashing and checked again after: a file written while it
 * was hashed would give pieces that match nothing, so that is refused.
 */
export async function makeTorrent(filesRoot: string, rel: string, kind: TorrentKind, config: BurrowConfig, createdBy: string, now: Date): Promise<MadeTorrent> {
  const src = collectSourceFiles(filesRoot, rel);
  const pieceLength = pieceLengthFor(src.totalBytes);
  const pieces = await hashPieces(src.files, pieceLength, src.totalBytes);
  for (const f of src.files) {
    const why = unchanged(f.abs, f);
    if (why) throw new BurrowError('SOURCE_CHANGED', `${why} while its torrent was being made.`, 'Try again when nothing writes to it.');
  }
  const token = crypto.randomBytes(16).toString('hex');
  const id = crypto.randomBytes(6).toString('hex');
  const base = torrentBaseUrl(config);
  const webSeed = webSeedUrl(base, token);
  // The web-seed token is also the tracker passkey: one secret per torrent, and a 1-time
  // torrent is made for one recipient, so its passkey is that recipient's.
  const announce = announceUrl(base, token);
  const name = path.basename(rel);
  const meta = buildMetainfo({
    name,
    kind: src.kind,
    files: src.files,
    pieceLength,
    pieces,
    private: kind === 'once',
    webSeed,
    announce,
    createdBy: 'Burrow',
    creationDate: now,
    comment: kind === 'once' ? 'One-time torrent: the NAS serves it for one complete download.' : undefined,
  });
  const torrentUrl = torrentFileUrl(base, token);
  return {
    row: {
      id,
      kind,
      source_path: rel,
      name,
      info_hash: meta.infoHash,
      token,
      piece_length: pieceLength,
      pieces: pieces.length / 20,
      total_bytes: src.totalBytes,
      files: JSON.stringify(src.files.map((f) => ({ path: f.path, size: f.size, mtimeMs: f.mtimeMs, ino: f.ino, dev: f.dev }))),
      metainfo: meta.torrent,
      created_by: createdBy,
      created_at: now.getTime(),
    },
    magnet: magnetLink(meta.infoHash, name, src.totalBytes, webSeed, torrentUrl, announce),
    webSeed,
    announce,
    torrentUrl,
  };
}
