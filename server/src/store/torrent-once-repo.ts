import type { Db } from './db.js';

/** What the NAS has sent of one 1-time torrent, and to whom (migrations/010_torrent_once_ledger.sql). */
export interface OnceLedgerRow {
  torrent_id: string;
  recipient_ip: string | null;
  recipient_peer_id: string | null;
  /** JSON [[start, end), ...] over the torrent's concatenated files. */
  spans: string;
  covered_bytes: number;
  bytes_sent: number;
  updated_at: number;
}

export class TorrentOnceRepo {
  constructor(readonly db: Db) {}

  get(torrentId: string): OnceLedgerRow | undefined {
    return this.db.prepare('SELECT * FROM torrent_once_ledger WHERE torrent_id = ?').get(torrentId) as OnceLedgerRow | undefined;
  }

  save(row: OnceLedgerRow): void {
    this.db
      .prepare(`INSERT INTO torrent_once_ledger (torrent_id, recipient_ip, recipient_peer_id, spans, covered_bytes, bytes_sent, updated_at)
        VALUES (@torrent_id, @recipient_ip, @recipient_peer_id, @spans, @covered_bytes, @bytes_sent, @updated_at)
        ON CONFLICT (torrent_id) DO UPDATE SET recipient_ip = excluded.recipient_ip, recipient_peer_id = excluded.recipient_peer_id,
          spans = excluded.spans, covered_bytes = excluded.covered_bytes, bytes_sent = excluded.bytes_sent, updated_at = excluded.updated_at`)
      .run(row);
  }
}
