import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newFolderSecrets, parseSecret, type FolderErrorEvent, type SyncEngine } from '../../server/src/sync/index.js';
import { Connection, newDeviceIdentity } from '../../server/src/sync/transport/index.js';
import { MsgType, PROTOCOL_VERSION, decodeMessage, encodeMessage, FrameDecoder, frame, ProtocolError, type Message } from '../../server/src/sync/protocol/index.js';
import { makeRecord, encryptBlock, blockSizeFor } from '../../server/src/sync/model/records.js';
import { engine, readTree, tmpDir, waitFor, writeTree } from './helpers.js';

const engines: SyncEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

function plainRecordFor(keysSecret: string, p: string, content: Buffer, vv: Array<[string, number]>, signerSecret?: string) {
  const keys = parseSecret(keysSecret);
  const signer = signerSecret ? { ...keys, signKey: parseSecret(signerSecret).signKey } : keys;
  const bs = blockSizeFor(content.length);
  const blocks: string[] = [];
  const cipher: Array<[string, number]> = [];
  for (let o = 0; o < content.length; o += bs) {
    const b = content.subarray(o, o + bs);
    const h = crypto.createHash('sha256').update(b).digest();
    blocks.push(h.toString('base64'));
    const c = encryptBlock(keys, b, h);
    cipher.push([crypto.createHash('sha256').update(c).digest('base64'), c.length]);
  }
  return makeRecord(signer, { path: p, size: content.length, mtime: Date.now(), mode: 0o644, bs, blocks, del: false }, vv, cipher);
}

async function rawPeer(port: number, secret: string): Promise<{ conn: Connection; msgs: Message[] }> {
  const conn = await Connection.connect('127.0.0.1', port, parseSecret(secret), newDeviceIdentity());
  const msgs: Message[] = [];
  conn.on('message', (m) => msgs.push(m));
  conn.resume();
  return { conn, msgs };
}

describe('security', () => {
  it('rejects publishing from a read-only peer and forged or altered records', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const other = newFolderSecrets();
    await writeTree(path.join(root, 'rw'), { 'a.txt': 'original' });
    const rw = await engine(root, 'rw');
    engines.push(rw);
    const errors: FolderErrorEvent[] = [];
    rw.on('error', (e) => errors.push(e));
    await rw.addFolder({ id: 'f', path: path.join(root, 'rw'), secret: s.readWrite, mode: 'send-receive' });
    const ro = await engine(root, 'ro', { knownHosts: [`127.0.0.1:${rw.port}`] });
    engines.push(ro);
    await ro.addFolder({ id: 'f', path: path.join(root, 'ro'), secret: s.readOnly, mode: 'receive-only' });
    await waitFor(async () => (await readTree(path.join(root, 'ro')).catch(() => ({}) as Record<string, string>))['a.txt'] === 'original', 10_000);

    // A read-only engine cannot even be set up to publish.
    await expect(ro.addFolder({ id: 'g', path: path.join(root, 'x'), secret: other.readOnly, mode: 'send-receive' })).rejects.toThrow(/read-write/);
    // Local edits on a receive-only peer are never published.
    await fs.promises.writeFile(path.join(root, 'ro', 'a.txt'), 'edited by read-only');
    await fs.promises.writeFile(path.join(root, 'ro', 'new.txt'), 'new from read-only');
    await rw.rescan('f');

    // A raw read-only peer forges records: signed with a wrong key, and a valid record with an altered body.
    const { conn } = await rawPeer(rw.port, s.readOnly);
    const forged = plainRecordFor(s.readOnly, 'a.txt', Buffer.from('forged!'), [['ffffffffffffffff', 99]], other.readWrite);
    const good = plainRecordFor(s.readWrite, 'b.txt', Buffer.from('legit'), [['eeeeeeeeeeeeeeee', 1]]);
    const altered = Buffer.from(good.body.toString().replace('"del":false', '"del":true '));
    conn.send({ type: MsgType.IndexUpdate, final: false, records: [{ body: forged.body, sig: forged.sig }, { body: altered, sig: good.sig }] });
    await waitFor(() => errors.filter((e) => (e.error as { code?: string }).code === 'BAD_SIGNATURE').length >= 2, 5000, 'signature errors');
    await new Promise((r) => setTimeout(r, 500));
    const tree = await readTree(path.join(root, 'rw'));
    expect(tree).toEqual({ 'a.txt': 'original' });
    conn.destroy();
  });

  it('rejects tampered blocks and never writes them', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const ro = await engine(root, 'ro');
    engines.push(ro);
    const errors: FolderErrorEvent[] = [];
    ro.on('error', (e) => errors.push(e));
    await ro.addFolder({ id: 'f', path: path.join(root, 'ro'), secret: s.readOnly, mode: 'receive-only' });
    // A malicious peer holding the read-only secret relays a genuine record but serves corrupted data.
    const content = crypto.randomBytes(300 * 1024);
    const rec = plainRecordFor(s.readWrite, 'victim.bin', content, [['aaaaaaaaaaaaaaaa', 1]]);
    const { conn } = await rawPeer(ro.port, s.readOnly);
    let served = 0;
    conn.on('message', (m) => {
      if (m.type === MsgType.Request) {
        served++;
        const bad = crypto.randomBytes(m.size);
        conn.send({ type: MsgType.Response, id: m.id, status: 0, data: bad });
      }
    });
    conn.send({ type: MsgType.Index, final: true, records: [{ body: rec.body, sig: rec.sig }] });
    await waitFor(() => served > 0 && errors.some((e) => (e.error as { code?: string }).code === 'BAD_BLOCK'), 10_000, 'block rejection');
    await new Promise((r) => setTimeout(r, 300));
    expect(fs.existsSync(path.join(root, 'ro', 'victim.bin'))).toBe(false);
    // the file is still owed: no peer could supply a verified copy (and the liar is no longer asked)
    expect(ro.progress('f').filesLeft).toBe(1);
    conn.destroy();
  });

  it('survives fuzzed and malformed frames, before and after the handshake', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    await writeTree(path.join(root, 'rw'), { 'x.txt': 'still works' });
    const rw = await engine(root, 'rw');
    engines.push(rw);
    rw.on('error', () => undefined);
    await rw.addFolder({ id: 'f', path: path.join(root, 'rw'), secret: s.readWrite, mode: 'send-receive' });

    // 1. Garbage before the handshake.
    const rnd = (n: number): Buffer => crypto.randomBytes(n);
    const payloads: Buffer[] = [rnd(10), rnd(1000), frame(rnd(68)), frame(Buffer.concat([Buffer.from('BSY1'), rnd(64)])), Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]), frame(Buffer.alloc(0))];
    for (let i = 0; i < 40; i++) payloads.push(frame(rnd(Math.floor(Math.random() * 200))));
    await Promise.all(
      payloads.map(
        (p) =>
          new Promise<void>((res) => {
            const sock = net.connect(rw.port, '127.0.0.1', () => sock.end(p));
            sock.on('error', () => res());
            sock.on('close', () => res());
            sock.resume();
          }),
      ),
    );

    // 2. Authenticated peers sending malformed messages inside valid encryption.
    const good = encodeMessage({ type: MsgType.Request, id: 1, kind: 0, hash: rnd(32), size: 10 });
    const idx = encodeMessage({ type: MsgType.Index, final: true, records: [{ body: Buffer.from('{"v":1}'), sig: rnd(64) }] });
    for (let i = 0; i < 30; i++) {
      const { conn } = await rawPeer(rw.port, s.readOnly);
      const base = i % 2 ? Buffer.from(good) : Buffer.from(idx);
      for (let j = 0; j < 1 + (i % 5); j++) base[Math.floor(Math.random() * base.length)] = Math.floor(Math.random() * 256);
      const msgs = [base, rnd(i * 7), Buffer.from([i % 9]), Buffer.concat([Buffer.from([2, 0]), Buffer.from([0xff, 0xff, 0xff, 0xff])])];
      for (const m of msgs) conn.sendRawEncrypted(m);
      await new Promise((r) => setTimeout(r, 10));
      conn.destroy();
    }

    // 3. The engine is alive and still syncs.
    const ro = await engine(root, 'ro', { knownHosts: [`127.0.0.1:${rw.port}`] });
    engines.push(ro);
    await ro.addFolder({ id: 'f', path: path.join(root, 'ro'), secret: s.readOnly, mode: 'receive-only' });
    await waitFor(async () => (await readTree(path.join(root, 'ro')).catch(() => ({}) as Record<string, string>))['x.txt'] === 'still works', 10_000);
  });

  it('strict decoder rejects every mutation with ProtocolError only', () => {
    const samples: Buffer[] = [
      encodeMessage({ type: MsgType.Hello, v: PROTOCOL_VERSION, device: '0123456789abcdef', key: Buffer.alloc(32, 1).toString('base64'), sig: Buffer.alloc(64, 2).toString('base64'), proofs: { enc: 'AAAA', ro: 'BBBB' }, port: 1234 }),
      encodeMessage({ type: MsgType.Index, final: true, records: [{ body: Buffer.from('{}'), sig: Buffer.alloc(64) }] }),
      encodeMessage({ type: MsgType.IndexStart, index: '0123456789abcdef', have: { index: 'fedcba9876543210', seq: 12 } }),
      encodeMessage({ type: MsgType.Request, id: 7, kind: 1, hash: Buffer.alloc(32), size: 100 }),
      encodeMessage({ type: MsgType.Response, id: 7, status: 0, data: Buffer.from('abc') }),
      encodeMessage({ type: MsgType.Peers, peers: ['127.0.0.1:1'] }),
      encodeMessage({ type: MsgType.Error, code: 'X', message: 'y' }),
    ];
    for (const sm of samples) expect(() => decodeMessage(sm)).not.toThrow();
    let rejected = 0;
    for (let i = 0; i < 20000; i++) {
      const b = Buffer.from(samples[i % samples.length]!);
      const n = 1 + (i % 4);
      for (let j = 0; j < n; j++) b[Math.floor(Math.random() * b.length)] = Math.floor(Math.random() * 256);
      const cut = i % 3 === 0 ? b.subarray(0, Math.floor(Math.random() * b.length)) : b;
      try {
        decodeMessage(cut);
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(1000);
    const d = new FrameDecoder(100);
    expect(() => d.push(Buffer.from([0, 0, 1, 0]))).toThrow(ProtocolError);
    const d2 = new FrameDecoder();
    const f = frame(Buffer.from('hello'));
    const out: Buffer[] = [];
    for (const byte of f) out.push(...d2.push(Buffer.from([byte])));
    expect(out.map((x) => x.toString())).toEqual(['hello']);
  });
});
