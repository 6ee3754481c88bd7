/**
 * LAN discovery by UDP broadcast beacons. Why this exists: peers on the
 * same network find each other with no DHT or config. A beacon carries a
 * random nonce, the time it was sent, the sender's device id and port, and
 * one 16-byte tag per folder: HMAC-SHA256(lanKey, "beacon2" || nonce || ts ||
 * device || port). Only holders of a folder secret can compute or recognise
 * a tag, so strangers learn nothing about which folders a device syncs; a
 * beacon older than a minute, or one whose nonce was seen, is a replay and
 * is ignored.
 *
 * Packet: "BSB2" | nonce[16] | ts u64 BE (ms) | device[8] | port u16 BE | n u8 | n x tag[16]
 */
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import os from 'node:os';
import { EventEmitter } from 'node:events';

export interface LanOptions {
  port: number;
  intervalMs?: number;
  /** Extra broadcast/multicast destinations; interface broadcast addresses are always used. */
  broadcast?: string[];
  bind?: string;
}

const MAGIC = Buffer.from('BSB2');
const HEAD = 4 + 16 + 8 + 8 + 2 + 1;
/** A beacon is fresh for this long either side of our clock. */
export const BEACON_WINDOW_MS = 60_000;
const MAX_SEEN = 10_000;

function tag(key: Buffer, nonce: Buffer, ts: Buffer, device: Buffer, port: number): Buffer {
  const p = Buffer.alloc(2);
  p.writeUInt16BE(port);
  return crypto.createHmac('sha256', key).update('beacon2').update(nonce).update(ts).update(device).update(p).digest().subarray(0, 16);
}

function broadcastAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      const ip = a.address.split('.').map(Number);
      const mask = a.netmask.split('.').map(Number);
      out.push(ip.map((x, i) => (x | (~mask[i]! & 255)) >>> 0).join('.'));
    }
  }
  return out;
}

export class LanDiscovery extends EventEmitter<{ peer: [string, string, number]; error: [Error] }> {
  private sock: dgram.Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly deviceBuf: Buffer;
  /** Nonces of accepted beacons, with their time, for the replay window. */
  private seen = new Map<string, number>();

  constructor(
    private readonly opts: LanOptions,
    device: string,
    private readonly tcpPort: () => number,
    /** folder key id -> lan key */
    private readonly folders: () => Map<string, Buffer>,
  ) {
    super();
    this.deviceBuf = Buffer.from(device, 'hex');
  }

  async open(): Promise<void> {
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.sock = sock;
    sock.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address));
    sock.on('error', (e) => {
      if (this.listenerCount('error')) this.emit('error', e);
    });
    await new Promise<void>((res) => sock.bind(this.opts.port, this.opts.bind ?? '0.0.0.0', () => res()));
    sock.setBroadcast(true);
    this.timer = setInterval(() => this.beacon(), this.opts.intervalMs ?? 30_000);
    setTimeout(() => this.beacon(), 50);
  }

  beacon(): void {
    const sock = this.sock;
    if (!sock) return;
    const folders = this.folders();
    if (folders.size === 0) return;
    const nonce = crypto.randomBytes(16);
    const port = this.tcpPort();
    const head = Buffer.alloc(HEAD);
    MAGIC.copy(head, 0);
    nonce.copy(head, 4);
    head.writeBigUInt64BE(BigInt(Date.now()), 20);
    this.deviceBuf.copy(head, 28);
    head.writeUInt16BE(port, 36);
    const keys = [...folders.values()].slice(0, 255);
    head[38] = keys.length;
    const ts = head.subarray(20, 28);
    const pkt = Buffer.concat([head, ...keys.map((k) => tag(k, nonce, ts, this.deviceBuf, port))]);
    const dests = new Set([...broadcastAddresses(), ...(this.opts.broadcast ?? [])]);
    if (this.opts.port > 0) for (const d of dests) sock.send(pkt, this.opts.port, d, () => undefined);
  }

  private onMessage(msg: Buffer, from: string): void {
    if (msg.length < HEAD || !msg.subarray(0, 4).equals(MAGIC)) return;
    const n = msg[38]!;
    if (msg.length !== HEAD + n * 16) return;
    const nonce = msg.subarray(4, 20);
    const ts = msg.subarray(20, 28);
    const device = msg.subarray(28, 36);
    if (device.equals(this.deviceBuf)) return;
    const port = msg.readUInt16BE(36);
    if (port === 0) return;
    const now = Date.now();
    const sent = Number(ts.readBigUInt64BE(0));
    if (Math.abs(now - sent) > BEACON_WINDOW_MS) return;
    const nonceKey = nonce.toString('hex');
    if (this.seen.has(nonceKey)) return;
    let matched = false;
    for (const [id, key] of this.folders()) {
      const want = tag(key, nonce, ts, device, port);
      for (let i = 0; i < n; i++) {
        if (crypto.timingSafeEqual(want, msg.subarray(HEAD + i * 16, HEAD + 16 + i * 16))) {
          matched = true;
          this.emit('peer', id, from, port);
          break;
        }
      }
    }
    // Only authentic beacons take room in the replay window, so strangers cannot flush it.
    if (matched) this.remember(nonceKey, now);
  }

  private remember(nonce: string, now: number): void {
    this.seen.set(nonce, now);
    if (this.seen.size <= MAX_SEEN) return;
    for (const [k, t] of this.seen) {
      if (now - t > 2 * BEACON_WINDOW_MS || this.seen.size > MAX_SEEN) this.seen.delete(k);
      else break;
    }
  }

  /** The UDP port actually bound (useful with port 0). */
  get port(): number {
    const a = this.sock?.address();
    return a ? a.port : 0;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const s = this.sock;
    this.sock = null;
    if (s) await new Promise<void>((res) => s.close(() => res()));
  }
}
