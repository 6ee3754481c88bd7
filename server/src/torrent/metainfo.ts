import crypto from 'node:crypto';
import bencode from 'bencode';
import type { SourceFile } from './source-files.js';

export interface MetainfoInput {
  name: string;
  kind: 'file' | 'folder';
  files: SourceFile[];
  pieceLength: number;
  pieces: Buffer;
  /** BEP 27: no DHT, no peer exchange; clients use only the sources in the .torrent. */
  private: boolean;
  /** BEP 19 web seed: for a folder, clients append <name>/<path>. */
  webSeed: string;
  /** The NAS's HTTP tracker, with the passkey in its path. */
  announce: string;
  createdBy: string;
  creationDate: Date;
  comment?: string;
}

export interface Metainfo {
  torrent: Buffer;
  infoHash: string;
}

/** The bencoded BEP 3 .torrent (single- or multi-file info dict) and its info hash. */
export function buildMetainfo(m: MetainfoInput): Metainfo {
  const info: Record<string, Uint8Array | string | number | Array<Record<string, unknown>>> = {
    name: m.name,
    'piece length': m.pieceLength,
    pieces: m.pieces,
  };
  if (m.kind === 'file') info.length = m.files[0]!.size;
  else info.files = m.files.map((f) => ({ length: f.size, path: f.parts }));
  if (m.private) info.private = 1;
  const infoBytes = Buffer.from(bencode.encode(info as never));
  const infoHash = crypto.createHash('sha1').update(infoBytes).digest('hex');
  const top: Record<string, unknown> = {
    announce: m.announce,
    'created by': m.createdBy,
    'creation date': Math.floor(m.creationDate.getTime() / 1000),
    info,
    'url-list': [m.webSeed],
  };
  if (m.comment) top.comment = m.comment;
  return { torrent: Buffer.from(bencode.encode(top as never)), infoHash };
}

/**
 * A magnet link (BEP 9): info hash, name, size, the tracker (tr), the web seed (ws) and where the .torrent
 * itself can be fetched (xs), since a web seed cannot hand out the metadata a magnet lacks.
 */
export function magnetLink(infoHash: string, name: string, totalBytes: number, webSeed: string, torrentUrl: string, announce: string): string {
  const q = [`xt=urn:btih:${infoHash}`, `dn=${encodeURIComponent(name)}`, `xl=${totalBytes}`, `tr=${encodeURIComponent(announce)}`, `ws=${encodeURIComponent(webSeed)}`, `xs=${encodeURIComponent(torrentUrl)}`];
  return `magnet:?${q.join('&')}`;
}
