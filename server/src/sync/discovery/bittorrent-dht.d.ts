// Minimal declaration for bittorrent-dht@11, which ships no types.
declare module 'bittorrent-dht' {
  import { EventEmitter } from 'node:events';
  export interface DHTOptions {
    bootstrap?: string[] | false;
    host?: string | false;
    nodeId?: Buffer;
    concurrency?: number;
    maxAge?: number;
  }
  export default class DHT extends EventEmitter {
    constructor(opts?: DHTOptions);
    listening: boolean;
    destroyed: boolean;
    nodeId: Buffer;
    listen(port?: number, host?: string, cb?: () => void): void;
    announce(infoHash: Buffer | string, port: number, cb?: (err?: Error | null) => void): void;
    lookup(infoHash: Buffer | string, cb?: (err: Error | null, n?: number) => void): () => void;
    address(): { address: string; family: string; port: number };
    addNode(node: { host: string; port: number }): void;
    destroy(cb?: () => void): void;
    on(event: 'peer', fn: (peer: { host: string; port: number }, infoHash: Buffer, from: unknown) => void): this;
    on(event: 'ready' | 'listening', fn: () => void): this;
    on(event: 'error' | 'warning', fn: (err: Error) => void): this;
  }
}
