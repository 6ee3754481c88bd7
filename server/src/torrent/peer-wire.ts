import crypto from 'node:crypto';
import type net from 'node:net';
import type { Logger } from 'pino';
import Wire from 'bittorrent-protocol';
import { PieceMismatch, type PieceReader } from './piece-reader.js';
import { plainIp, type RateLimiter } from './rate-limit.js';

/** What the peer-wire seeder needs to know of one active torrent. */
export interface WireTorrent {
  id: string;
  infoHash: string;
  pieceLength: number;
  reader: PieceReader;
}

export interface PeerHooks {
  byInfoHash(infoHashHex: string): WireTorrent | undefined;
  /** Every torrent served now (an encrypted handshake names its torrent by a hash of the info hash). */
  all(): Iterable<WireTorrent>;
  /** Null when this peer may download the torrent, else why not (a 1-time torrent's other peers). */
  admit(t: WireTorrent, ip: string, peerIdHex: string): string | null;
  /** The torrent's bytes no longer match its pieces: stop it, with this reason. */
  changed(t: WireTorrent, reason: string): void;
  /** Bytes [start, end) of the torrent went out to `ip`. */
  sent(t: WireTorrent, ip: string, start: number, end: number): void;
}

/** Largest block a peer may ask for (clients ask 16 KiB; BEP 3 says to drop anything above 128 KiB). */
const MAX_BLOCK = 128 * 1024;
/** An idle peer connection is closed after this long. */
const IDLE_MS = 120_000;
/** After a torrent stops, blocks already handed to the socket get this long to drain before it closes. */
const DRAIN_MS = 2_000;

interface Conn {
  socket: net.Socket;
  wire: Wire;
  ip: string;
  torrent?: WireTorrent;
  closed: boolean;
}

/** This NAS's peer id: Azureus style, "-BW0100-" and 12 random bytes. */
export function newPeerId(): Buffer {
  return Buffer.concat([Buffer.from('-BW0100-'), crypto.randomBytes(12)]);
}

/** A bitfield with every piece set (the NAS holds all of them); spare bits at the end are 0. */
function allPieces(n: number): Uint8Array {
  const b = new Uint8Array(Math.ceil(n / 8)).fill(0xff);
  if (n % 8) b[b.length - 1] = (0xff << (8 - (n % 8))) & 0xff;
  return b;
}

/**
 * The NAS as a BitTorrent seed (BEP 3 peer wire, spoken by the bittorrent-protocol library): it
 * answers the handshake of a torrent it serves, says it has every piece, unchokes whoever is
 * interested, and answers each block request from a piece read and SHA-1 verified first. It never
 * downloads, and it never connects out: peers come to the torrent listener.
 */
export class PeerSeeder {
  readonly peerId = newPeerId();
  private readonly conns = new Set<Conn>();

  constructor(
    private readonly hooks: PeerHooks,
    private readonly limiter: RateLimiter,
    private readonly log: Logger,
  ) {}

  get connections(): number {
    return this.conns.size;
  }

  accept(socket: net.Socket): void {
    // 1 = accept Message Stream Encryption (what clients such as Transmission try first) and
    // plain handshakes; after an encrypted handshake the NAS picks plaintext when the peer allows.
    const wire = new Wire('tcpIncoming', 1);
    const c: Conn = { socket, wire, ip: plainIp(socket.remoteAddress), closed: false };
    this.conns.add(c);
    const drop = () => {
      if (!this.conns.delete(c)) return;
      socket.destroy();
      wire.destroy();
    };
    // Blocks are 16 KiB, below a loopback or LAN segment: without this, Nagle's algorithm holds
    // each one until the previous is acknowledged (and delayed ACKs make that 40 ms).
    socket.setNoDelay(true);
    socket.setTimeout(IDLE_MS, drop);
    socket.on('error', drop).on('close', drop);
    wire.on('error', drop).on('close', drop);
    socket.pipe(wire).pipe(socket);
    wire.on('crypto-infohash', (hashedHex: string) => {
      const want = Buffer.from(hashedHex, 'hex');
      for (const t of this.hooks.all())
        if (crypto.createHash('sha1').update('req2').update(Buffer.from(t.infoHash, 'hex')).digest().equals(want)) return wire.setInfoHash(t.infoHash);
      drop();
    });
    wire.on('handshake', (infoHash, peerId) => {
      const t = this.hooks.byInfoHash(infoHash);
      const why = t ? this.hooks.admit(t, c.ip, peerId) : 'unknown torrent';
      if (!t || why) {
        this.log.info({ ip: c.ip, infoHash, why }, 'peer refused');
        return drop();
      }
      c.torrent = t;
      wire.handshake(infoHash, this.peerId, { dht: false });
      wire.bitfield(allPieces(t.reader.pieceCount));
    });
    wire.on('interested', () => {
      if (c.torrent && !c.closed) wire.unchoke();
    });
    wire.on('request', (index, offset, length, respond) => void this.serve(c, index, offset, length, respond, drop));
  }

  private async serve(c: Conn, index: number, offset: number, length: number, respond: (err: Error | null, b?: Uint8Array) => void, drop: () => void): Promise<void> {
    const t = c.torrent;
    if (!t || c.closed) return drop();
    const r = t.reader;
    if (!(index >= 0 && index < r.pieceCount) || length <= 0 || length > MAX_BLOCK || offset < 0 || offset + length > r.pieceSize(index)) {
      this.log.info({ ip: c.ip, index, offset, length }, 'peer asked for a block outside the torrent');
      return drop();
    }
    let piece: Buffer;
    try {
      piece = await r.piece(index);
    } catch (err) {
      if (err instanceof PieceMismatch) this.hooks.changed(t, err.message);
      else this.log.warn({ err, torrent: t.id }, 'reading a piece failed');
      return drop();
    }
    await this.limiter.take(length);
    // The torrent may have stopped (used, changed, destroyed) or the request been cancelled meanwhile.
    if (c.closed || this.hooks.byInfoHash(t.infoHash) !== t) return drop();
    if (!c.wire.peerRequests.some((q) => q.piece === index && q.offset === offset && q.length === length)) return;
    respond(null, piece.subarray(offset, offset + length));
    const start = index * t.pieceLength + offset;
    this.hooks.sent(t, c.ip, start, start + length);
  }

  /** A torrent stopped: no more blocks of it; its connections close once what was sent drains. */
  dropTorrent(id: string): void {
    for (const c of this.conns)
      if (c.torrent?.id === id && !c.closed) {
        c.closed = true;
        c.wire.choke();
        setTimeout(() => {
          c.socket.end();
          setTimeout(() => c.socket.destroy(), DRAIN_MS).unref();
        }, DRAIN_MS).unref();
      }
  }

  closeAll(): void {
    for (const c of [...this.conns]) {
      this.conns.delete(c);
      c.socket.destroy();
      c.wire.destroy();
    }
  }
}
