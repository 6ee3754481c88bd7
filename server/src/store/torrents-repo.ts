import type { Db } from './db.js';

export type TorrentKind = 'public' | 'once';
export type TorrentState = 'active' | 'stopped' | 'used';

/** One file of a torrent as it was when its pieces were hashed (what every range request re-checks). */
export interface TorrentFile {
  /** Relative to files/. */
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

export interface TorrentRow {
  id: string;
  kind: TorrentKind;
  source_path: string;
  name: string;
  info_hash: string;
  token: string;
  piece_length: number;
  pieces: number;
  total_bytes: number;
  files: string;
  metainfo: Buffer;
  state: TorrentState;
  stop_reason: string | null;
  downloads: number;
  bytes_served: number;
  created_by: string;
  created_at: number;
  stopped_at: number | null;
  /** A 1-time torrent: distinct bytes the NAS has sent its recipient (null for a public one). */
  once_covered?: number | null;
}

export type NewTorrent = Omit<TorrentRow, 'state' | 'stop_reason' | 'downloads' | 'bytes_served' | 'stopped_at' | 'once_covered'>;

const LIST_COLUMNS = `id, kind, source_path, name, info_hash, token, piece_length, pieces, total_bytes, files, state, stop_reason, downloads, bytes_served, created_by, created_at, stopped_at,
  (SELECT covered_bytes FROM torrent_once_ledger l WHERE l.torrent_id = torrents.id) AS once_covered`;

/** Torrents the NAS made and serves (migrations/008_torrents.sql). */
export class TorrentsRepo {
  constructor(readonly db: Db) {}

  /** Idempotent: a recovered request that adds the same torrent again changes nothing. */
  add(row: NewTorrent): void {
    this.db
      .prepare(`INSERT OR IGNORE INTO torrents (id, kind, source_path, name, info_hash, token, piece_length, pieces, total_bytes, files, metainfo, state, created_by, created_at)
        VALUES (@id, @kind, @source_path, @name, @info_hash, @token, @piece_length, @pieces, @total_bytes, @files, @metainfo, 'active', @created_by, @created_at)`)
      .run(row);
  }

  get(id: string): TorrentRow | undefined {
    return this.db.prepare('SELECT * FROM torrents WHERE id = ?').get(id) as TorrentRow | undefined;
  }

  /** Without the metainfo blob: what lists and the listener need. */
  list(opts: { active?: boolean } = {}): Array<Omit<TorrentRow, 'metainfo'>> {
    return this.db.prepare(`SELECT ${LIST_COLUMNS} FROM torrents ${opts.active ? "WHERE state = 'active'" : ''} ORDER BY created_at, id`).all() as Array<Omit<TorrentRow, 'metainfo'>>;
  }

  countActive(): number {
    return this.db.prepare("SELECT count(*) FROM torrents WHERE state = 'active'").pluck().get() as number;
  }

  /** Ends an active torrent; returns false when it was not active (already stopped or used). */
  end(id: string, state: 'stopped' | 'used', reason: string, at = Date.now()): boolean {
    return this.db.prepare("UPDATE torrents SET state = ?, stop_reason = ?, stopped_at = ? WHERE id = ? AND state = 'active'").run(state, reason, at, id).changes > 0;
  }

  addServed(id: string, bytes: number): void {
    this.db.prepare('UPDATE torrents SET bytes_served = bytes_served + ? WHERE id = ?').run(bytes, id);
  }

  addDownload(id: string): void {
    this.db.prepare('UPDATE torrents SET downloads = downloads + 1 WHERE id = ?').run(id);
  }
}
