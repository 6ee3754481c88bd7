/**
 * The malicious-peer harness: crafts records, frames and beacons with a
 * folder's real secrets, the way a member turned hostile (or a stranger who
 * copied a lower secret) could, and speaks them to a real engine over
 * loopback. Tests in this folder use it; nothing here is a mock of the engine.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { parseSecret } from '../../server/src/sync/index.js';
import { Connection, newDeviceIdentity, type LocalIdentity } from '../../server/src/sync/transport/index.js';
import { MsgType, frame, type Message, type WireRecord } from '../../server/src/sync/protocol/index.js';
import { blockSizeFor, encryptBlock, makeRecord } from '../../server/src/sync/model/records.js';

export interface CraftOptions {
  path: string;
  content?: Buffer;
  vv: Array<[string, number]>;
  mode?: number;
  mtime?: number;
  del?: boolean;
}

/** A record signed with the folder's real read-write secret, with whatever fields the attacker picks. */
export function craftRecord(readWrite: string, o: CraftOptions): WireRecord & { blocks: Map<string, Buffer> } {
  const keys = parseSecret(readWrite);
  const content = o.content ?? Buffer.alloc(0);
  const bs = blockSizeFor(content.length);
  const plainHashes: string[] = [];
  const cipher: Array<[string, number]> = [];
  const blocks = new Map<string, Buffer>(); // plain hash and cipher hash (base64) -> bytes to serve
  for (let off = 0; off < content.length; off += bs) {
    const b = content.subarray(off, off + bs);
    const h = crypto.createHash('sha256').update(b).digest();
    const c = encryptBlock(keys, b, h);
    const ch = crypto.createHash('sha256').update(c).digest('base64');
    plainHashes.push(h.toString('base64'));
    cipher.push([ch, c.length]);
    blocks.set(h.toString('base64'), b);
    blocks.set(ch, c);
  }
  const del = o.del ?? false;
  const rec = makeRecord(
    keys,
    { path: o.path, size: del ? 0 : content.length, mtime: o.mtime ?? Date.now(), mode: o.mode ?? 0o644, bs, blocks: del ? [] : plainHashes, del },
    [...o.vv].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    del ? [] : cipher,
  );
  return { body: rec.body, sig: rec.sig, blocks };
}

export interface RawPeer {
  conn: Connection;
  msgs: Message[];
  identity: LocalIdentity;
  /** Answer block requests from these crafted records. */
  serve(records: Array<{ blocks: Map<string, Buffer> }>): void;
  sendIndex(records: WireRecord[], final?: boolean): void;
}

/** An authenticated connection holding `secret`, under a fresh (or a given) device identity. */
export async function rawPeer(port: number, secret: string, identity: LocalIdentity = newDeviceIdentity()): Promise<RawPeer> {
  const conn = await Connection.connect('127.0.0.1', port, parseSecret(secret), identity);
  const msgs: Message[] = [];
  const served = new Map<string, Buffer>();
  conn.on('message', (m) => {
    msgs.push(m);
    if (m.type === MsgType.Request) {
      const data = served.get(m.hash.toString('base64'));
      conn.send({ type: MsgType.Response, id: m.id, status: data ? 0 : 1, data: data ?? Buffer.alloc(0) });
    }
  });
  conn.on('close', () => undefined);
  conn.resume();
  // Protocol 3: say we hold nothing of the engine's index, so it sends all of it.
  conn.send({ type: MsgType.IndexStart, index: crypto.randomBytes(8).toString('hex'), have: null });
  return {
    conn,
    msgs,
    identity,
    serve(records) {
      for (const r of records) for (const [h, b] of r.blocks) served.set(h, b);
    },
    sendIndex(records, final = true) {
      conn.send({ type: MsgType.Index, final, records: records.map((r) => ({ body: r.body, sig: r.sig })) });
    },
  };
}

/** A bare TCP socket that writes `bytes` before any handshake; resolves once it is open. */
export function rawSocket(port: number, bytes: Buffer = Buffer.alloc(0)): Promise<net.Socket & { closedAt?: number }> {
  return new Promise((res, rej) => {
    const sock: net.Socket & { closedAt?: number } = net.connect(port, '127.0.0.1', () => {
      if (bytes.length) sock.write(bytes);
      res(sock);
    });
    sock.on('error', () => undefined);
    sock.once('error', rej);
    sock.on('close', () => (sock.closedAt = Date.now()));
    sock.resume();
  });
}

/** A cleartext frame header announcing `len` bytes, followed by `send` bytes of it. */
export function bigFrameStart(len: number, send: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(len);
  return Buffer.concat([h, crypto.randomBytes(send)]);
}

export { frame };

/** A LAN beacon (protocol 2) for the folders of `secrets`, with the attacker's choice of time and nonce. */
export function craftBeacon(secrets: string[], o: { device: string; port: number; ts?: number; nonce?: Buffer }): Buffer {
  const nonce = o.nonce ?? crypto.randomBytes(16);
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(o.ts ?? Date.now()));
  const dev = Buffer.from(o.device, 'hex');
  const port = Buffer.alloc(2);
  port.writeUInt16BE(o.port);
  const tags = secrets.map((s) =>
    crypto.createHmac('sha256', parseSecret(s).lanKey).update('beacon2').update(nonce).update(ts).update(dev).update(port).digest().subarray(0, 16),
  );
  return Buffer.concat([Buffer.from('BSB2'), nonce, ts, dev, port, Buffer.from([tags.length]), ...tags]);
}
