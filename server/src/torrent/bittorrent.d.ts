// Minimal declarations for bittorrent-protocol@5 and bittorrent-tracker@11's server, which ship no types.
declare module 'bittorrent-protocol' {
  import { Duplex } from 'node:stream';
  type Respond = (err: Error | null, buffer?: Uint8Array) => void;
  class Wire extends Duplex {
    constructor(type?: string, peEnabled?: 0 | 1 | 2);
    setInfoHash(infoHashHex: string): void;
    peerRequests: Array<{ piece: number; offset: number; length: number }>;
    amChoking: boolean;
    handshake(infoHash: string | Uint8Array, peerId: string | Uint8Array, extensions?: { dht?: boolean; fast?: boolean }): void;
    bitfield(bitfield: Uint8Array): void;
    choke(): void;
    unchoke(): void;
    setKeepAlive(enable: boolean): void;
    on(event: 'handshake', fn: (infoHash: string, peerId: string, extensions: Record<string, boolean>) => void): this;
    on(event: 'request', fn: (index: number, offset: number, length: number, respond: Respond) => void): this;
    on(event: 'interested' | 'uninterested' | 'close' | 'end' | 'finish', fn: () => void): this;
    on(event: 'error', fn: (err: Error) => void): this;
    on(event: 'crypto-infohash', fn: (hashedHex: string) => void): this;
    on(event: string, fn: (...args: never[]) => void): this;
  }
  export default Wire;
}

declare module 'bittorrent-tracker/server' {
  import { EventEmitter } from 'node:events';
  import type http from 'node:http';
  export interface AnnounceParams {
    info_hash: string;
    peer_id: string;
    ip: string;
    port: number;
    left: number;
    event?: string;
    numwant: number;
    compact: number;
    httpReq?: http.IncomingMessage;
  }
  export interface SwarmPeer {
    type: string;
    complete?: boolean;
    peerId: string;
    ip: string;
    port: number;
  }
  class Swarm {
    constructor(infoHash: string, server: Server);
    infoHash: string;
    _getPeers(numwant: number, ownPeerId: string, isWebRTC: boolean): SwarmPeer[];
  }
  class Server extends EventEmitter {
    static Swarm: typeof Swarm;
    constructor(opts: {
      http?: boolean;
      udp?: boolean;
      ws?: boolean;
      stats?: boolean;
      interval?: number;
      trustProxy?: boolean;
      filter?: (infoHash: string, params: AnnounceParams, cb: (err?: Error | null) => void) => void;
    });
    torrents: Record<string, Swarm>;
    createSwarm(infoHash: string, cb: (err: Error | null, swarm: Swarm) => void): void;
    onHttpRequest(req: http.IncomingMessage, res: http.ServerResponse, opts?: { action?: 'announce' | 'scrape'; trustProxy?: boolean }): void;
    close(cb?: () => void): void;
  }
  export default Server;
}
