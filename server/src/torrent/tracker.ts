import type http from 'node:http';
import bencode from 'bencode';
import TrackerServer, { type AnnounceParams, type SwarmPeer } from 'bittorrent-tracker/server';

export interface TrackerHooks {
  /**
   * Null when this announce may proceed, else the failure reason sent back. Sees every announce
   * (started, update, completed, stopped) with the passkey from its URL.
   */
  check(passkey: string, params: AnnounceParams): string | null;
  /** The NAS's own peer (ip:port of the torrent listener), listed first in every answer. */
  nasPeer(): { ip: string; port: number; peerIdHex: string } | undefined;
  /** A 1-time torrent's recipient gets the NAS only, never other peers. */
  nasOnly(infoHashHex: string): boolean;
}

/** Tell clients to announce again after this long (seconds); a stopped torrent is refused at the next one. */
const INTERVAL_MS = 5 * 60 * 1000;

/**
 * The HTTP tracker (BEP 3) of the torrent listener: bittorrent-tracker's server with its own
 * listeners off (no UDP, no WebSocket, no stats page), fed the listener's requests for
 * /tr/<passkey>/announce. Its filter refuses unknown passkeys, stopped torrents and a 1-time
 * torrent's second recipient; every peer list starts with the NAS itself, the seed.
 */
export class Tracker {
  private readonly server: TrackerServer;

  constructor(private readonly hooks: TrackerHooks) {
    const passkeys = new WeakMap<http.IncomingMessage, string>();
    this.server = new TrackerServer({
      http: false,
      udp: false,
      ws: false,
      stats: false,
      interval: INTERVAL_MS,
      filter: (_infoHash, params, cb) => {
        const passkey = params.httpReq ? passkeys.get(params.httpReq) : undefined;
        const why = passkey === undefined ? 'no passkey' : hooks.check(passkey, params);
        cb(why ? new Error(why) : null);
      },
    });
    this.server.on('warning', () => undefined); // bad announces get their failure reason; nothing to log per client
    this.server.on('error', () => undefined);
    const Base = TrackerServer.Swarm;
    class NasSwarm extends Base {
      override _getPeers(numwant: number, own: string, webrtc: boolean): SwarmPeer[] {
        const nas = hooks.nasPeer();
        const others = hooks.nasOnly(this.infoHash) ? [] : super._getPeers(Math.max(0, numwant - 1), own, webrtc).filter((p) => !nas || p.peerId !== nas.peerIdHex);
        return nas ? [{ type: 'http', peerId: nas.peerIdHex, ip: nas.ip, port: nas.port, complete: true }, ...others] : others;
      }
    }
    const server = this.server;
    server.createSwarm = (infoHash, cb) => {
      process.nextTick(() => {
        const swarm = new NasSwarm(infoHash, server);
        server.torrents[infoHash] = swarm;
        cb(null, swarm);
      });
    };
    this.passkeys = passkeys;
  }

  private readonly passkeys: WeakMap<http.IncomingMessage, string>;

  /** GET /tr/<passkey>/announce (and /scrape, which Burrow does not answer). */
  handle(req: http.IncomingMessage, res: http.ServerResponse, passkey: string, action: string): void {
    res.setHeader('content-type', 'text/plain');
    res.setHeader('cache-control', 'no-store');
    if (action !== 'announce') return void res.end(Buffer.from(bencode.encode({ 'failure reason': 'This tracker does not answer scrapes.' })));
    this.passkeys.set(req, passkey);
    this.server.onHttpRequest(req, res, { action: 'announce' });
  }

  /** Forget a stopped torrent's peers. */
  forget(infoHashHex: string): void {
    delete this.server.torrents[infoHashHex];
  }

  close(): void {
    this.server.close();
  }
}
