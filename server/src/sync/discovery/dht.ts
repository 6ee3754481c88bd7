/**
 * Discovery over the BitTorrent mainline DHT (bittorrent-dht). Why this
 * exists: peers of a folder find each other with no server of ours. Only
 * the 20-byte DHT key (a hash of the folder's public identity) is ever
 * announced; never a secret. The bootstrap list is always explicit: pass
 * `false` for a first node, never undefined (that would contact the public
 * routers).
 */
import { EventEmitter } from 'node:events';
import type DHT from 'bittorrent-dht';

export interface DhtOptions {
  bootstrap: string[] | false;
  port?: number;
  host?: string;
  /** How often to re-announce and look up each key (ms). */
  intervalMs?: number;
}

export class DhtDiscovery extends EventEmitter<{ peer: [string, string, number]; error: [Error] }> {
  private dht: DHT | null = null;
  private keys = new Map<string, { key: Buffer; port: number }>();
  private timer: NodeJS.Timeout | null = null;
  private ready = false;

  constructor(private readonly opts: DhtOptions) {
    super();
    if (opts.bootstrap === undefined) throw new Error('dht.bootstrap must be explicit (false for a first node)');
  }

  async open(): Promise<void> {
    const { default: Dht } = await import('bittorrent-dht'); // loaded by the engines that discover: not by every command
    const dht = new Dht({ bootstrap: this.opts.bootstrap });
    this.dht = dht;
    dht.on('peer', (peer, infoHash) => this.emit('peer', infoHash.toString('hex'), peer.host, peer.port));
    dht.on('error', (e) => {
      if (this.listenerCount('error')) this.emit('error', e);
    });
    dht.on('warning', () => undefined);
    dht.on('ready', () => {
      this.ready = true;
      this.refreshAll();
    });
    await new Promise<void>((res) => dht.listen(this.opts.port ?? 0, this.opts.host ?? '0.0.0.0', () => res()));
    this.timer = setInterval(() => this.refreshAll(), this.opts.intervalMs ?? 5 * 60_000);
  }

  get port(): number {
    return this.dht?.address().port ?? 0;
  }

  add(key: Buffer, port: number): void {
    this.keys.set(key.toString('hex'), { key, port });
    if (this.ready) this.refresh(key, port);
  }

  remove(key: Buffer): void {
    this.keys.delete(key.toString('hex'));
  }

  /** Look up now (also re-announces). */
  refreshAll(): void {
    for (const { key, port } of this.keys.values()) this.refresh(key, port);
  }

  private refresh(key: Buffer, port: number): void {
    const dht = this.dht;
    if (!dht || dht.destroyed) return;
    dht.announce(key, port, () => undefined);
    dht.lookup(key, () => undefined);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const dht = this.dht;
    this.dht = null;
    if (dht) await new Promise<void>((res) => dht.destroy(() => res()));
  }
}
