import type { OnceLedgerRow, TorrentOnceRepo } from '../store/torrent-once-repo.js';
import { Coverage } from './coverage.js';

/** How long progress may wait in memory before it is written (a kill -9 forgets at most this much). */
const SAVE_DELAY_MS = 200;

/**
 * What the NAS has sent of one 1-time torrent, on any path (web seed or peer wire), and who it
 * belongs to: the first address that asked for it (and, over the tracker, the first peer id that
 * announced with the passkey). Kept in SQLite so a restart forgets neither.
 */
export class OnceLedger {
  recipientIp: string | null;
  recipientPeerId: string | null;
  readonly coverage: Coverage;
  bytesSent: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly torrentId: string,
    total: number,
    private readonly repo: TorrentOnceRepo,
  ) {
    const row = repo.get(torrentId);
    this.recipientIp = row?.recipient_ip ?? null;
    this.recipientPeerId = row?.recipient_peer_id ?? null;
    this.coverage = new Coverage(total, row ? (JSON.parse(row.spans) as Array<[number, number]>) : []);
    this.bytesSent = row?.bytes_sent ?? 0;
  }

  /** Null when `ip` may have bytes of this torrent, else why not. Binds the recipient on first use. */
  admit(ip: string): string | null {
    if (this.recipientIp === null) {
      this.recipientIp = ip;
      this.saveNow();
      return null;
    }
    return this.recipientIp === ip ? null : 'This one-time torrent is being downloaded by someone else.';
  }

  /**
   * Over the tracker: the recipient's address must match; its peer id is the one it announced
   * last (a client that restarts picks a new one), and only that one may open a peer connection.
   */
  admitPeer(ip: string, peerIdHex: string): string | null {
    const why = this.admit(ip);
    if (why) return why;
    if (this.recipientPeerId !== peerIdHex) {
      this.recipientPeerId = peerIdHex;
      this.saveNow();
    }
    return null;
  }

  /** Whether a wire connection from (ip, peer id) is the recipient's. */
  isRecipient(ip: string, peerIdHex: string): boolean {
    return this.recipientIp === ip && (this.recipientPeerId === null || this.recipientPeerId === peerIdHex);
  }

  sent(start: number, end: number): void {
    this.coverage.add(start, end);
    this.bytesSent += end - start;
    this.timer ??= setTimeout(() => this.saveNow(), SAVE_DELAY_MS);
  }

  saveNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const row: OnceLedgerRow = {
      torrent_id: this.torrentId,
      recipient_ip: this.recipientIp,
      recipient_peer_id: this.recipientPeerId,
      spans: JSON.stringify(this.coverage.spanList),
      covered_bytes: this.coverage.bytes(),
      bytes_sent: this.bytesSent,
      updated_at: Date.now(),
    };
    this.repo.save(row);
  }
}
