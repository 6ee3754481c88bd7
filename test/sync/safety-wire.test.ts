import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newFolderSecrets, parseSecret, type SyncEngine } from '../../server/src/sync/index.js';
import { LanDiscovery } from '../../server/src/sync/discovery/lan.js';
import { newDeviceIdentity } from '../../server/src/sync/transport/index.js';
import { MsgType, frame } from '../../server/src/sync/protocol/index.js';
import { engine, tmpDir, waitFor, writeTree } from './helpers.js';
import { craftBeacon, rawPeer, rawSocket } from './malicious-peer.js';

/** Issue 12, safety 5 to 8 (wire): what a member or a stranger can make a peer do before and after the handshake. */
const engines: SyncEngine[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

async function pair(): Promise<{ s: ReturnType<typeof newFolderSecrets>; a: SyncEngine; b: SyncEngine; errors: string[] }> {
  const root = await tmpDir();
  const s = newFolderSecrets();
  const a = await engine(root, 'a');
  engines.push(a);
  const errors: string[] = [];
  a.on('error', (e) => errors.push(e.error.message));
  await a.addFolder({ id: 'f', path: path.join(root, 'a'), secret: s.readWrite, mode: 'send-receive' });
  const b = await engine(root, 'b', { knownHosts: [`127.0.0.1:${a.port}`] });
  engines.push(b);
  await b.addFolder({ id: 'f', path: path.join(root, 'b'), secret: s.readWrite, mode: 'send-receive' });
  await waitFor(() => a.listPeers('f').length === 1 && b.listPeers('f').length === 1, 10_000, 'a and b linked');
  return { s, a, b, errors };
}

describe('device ids are proven', () => {
  it('a member holding the encrypted secret cannot claim another device id', async () => {
    const { s, a, b, errors } = await pair();
    const impostor = { ...newDeviceIdentity(), device: b.device };
    // Even with the read-write secret, the key must be the one whose hash is the id.
    for (const secret of [s.encrypted, s.readWrite]) {
      const n = errors.length;
      const p = await rawPeer(a.port, secret, impostor).catch(() => null);
      if (p) await waitFor(() => p.conn.closed, 5000, 'impostor to be dropped');
      await waitFor(() => errors.slice(n).some((m) => /device/.test(m)), 5000, 'a refusal naming the device id');
      expect(a.listPeers('f').map((x) => x.device)).toEqual([b.device]);
    }
    // An honest new device is still welcome.
    const honest = await rawPeer(a.port, s.encrypted);
    cleanups.push(() => honest.conn.destroy());
    await waitFor(() => a.listPeers('f').length === 2, 5000, 'honest peer linked');
  });

  it('a peer of the previous protocol version gets a clear refusal', async () => {
    const { a } = await pair();
    const keys = parseSecret(newFolderSecrets().readWrite);
    const sock = await rawSocket(a.port, frame(Buffer.concat([Buffer.from('BSY1'), keys.folderId, Buffer.alloc(32, 9)])));
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => got.push(d));
    await waitFor(() => sock.closedAt !== undefined, 5000, 'refusal');
    const reply = Buffer.concat(got);
    expect(reply.subarray(4, 8).toString()).toBe('BSYV');
    expect(reply.subarray(9).toString()).toMatch(/protocol 3, not 1/);
  });
});

describe('nothing unauthenticated costs memory', () => {
  it('closes a connection whose first frame is larger than a handshake, and 8 such sockets do not grow RSS', async () => {
    const { a, b } = await pair();
    // The attacker runs in another process, so only the peer's memory is measured here.
    const script = `
      const net = require('node:net');
      const socks = [];
      let closed = 0;
      for (let i = 0; i < 8; i++) {
        const s = net.connect(${a.port}, '127.0.0.1', () => {
          const h = Buffer.alloc(4); h.writeUInt32BE(16 * 1024 * 1024);
          s.write(h);
          const chunk = Buffer.alloc(1024 * 1024, 7);
          for (let j = 0; j < 16; j++) s.write(j === 15 ? chunk.subarray(1) : chunk);
        });
        s.on('error', () => {});
        s.on('close', () => { closed++; process.stdout.write('closed ' + closed + '\\n'); });
        socks.push(s);
      }
      setTimeout(() => process.exit(0), 30000);
    `;
    global.gc?.();
    const before = process.memoryUsage().rss;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => child.kill());
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 0));
    await waitFor(() => out.includes('closed 8'), 5000, 'the peer to close all 8 oversized pre-auth frames');
    const after = process.memoryUsage().rss;
    console.log(`RSS with 8 oversized pre-auth sockets: before ${Math.round(before / 1048576)} MB, after ${Math.round(after / 1048576)} MB`);
    expect(after - before).toBeLessThan(48 * 1024 * 1024);
    // The honest link is untouched.
    expect(a.listPeers('f').map((p) => p.device)).toEqual([b.device]);
  });

  it('the cap is for handshake frames only: an index of many KiB sent right after the Hello still arrives', async () => {
    const root = await tmpDir();
    const s = newFolderSecrets();
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`dir-${i % 7}/file-${i}.txt`] = `content ${i}`;
    await writeTree(path.join(root, 'a'), files);
    const a = await engine(root, 'a');
    engines.push(a);
    await a.addFolder({ id: 'f', path: path.join(root, 'a'), secret: s.readWrite, mode: 'send-receive' });
    await a.rescan('f');
    const b = await engine(root, 'b', { knownHosts: [`127.0.0.1:${a.port}`] });
    engines.push(b);
    await b.addFolder({ id: 'f', path: path.join(root, 'b'), secret: s.readOnly, mode: 'receive-only' });
    await waitFor(() => b.listFiles('f').length === 300 && b.progress('f').inSync, 20_000, 'the whole index and files');
  });

  it('caps unauthenticated connections: idle sockets beyond the cap are closed at once', async () => {
    const { s, a } = await pair();
    const socks = await Promise.all(Array.from({ length: 40 }, () => rawSocket(a.port)));
    cleanups.push(() => socks.forEach((x) => x.destroy()));
    await waitFor(() => socks.filter((x) => x.closedAt !== undefined).length >= 24, 3000, 'sockets over the cap to be closed');
    // The ones inside the cap still wait for their handshake; an honest peer still gets in once they are gone.
    socks.forEach((x) => x.destroy());
    await waitFor(
      async () => {
        const honest = await rawPeer(a.port, s.encrypted).catch(() => null);
        if (honest) cleanups.push(() => honest.conn.destroy());
        return !!honest;
      },
      5000,
      'an honest peer to get in',
    );
    await waitFor(() => a.listPeers('f').length === 2, 5000, 'honest peer linked');
  });
});

describe('peer exchange is bounded', () => {
  it('refuses a list of 1000 addresses, rate-limits the rest and forgets addresses that never answer', async () => {
    const { s, a } = await pair();
    const before = a.listCandidates('f').length;
    const p1 = await rawPeer(a.port, s.encrypted);
    cleanups.push(() => p1.conn.destroy());
    const closed = new Promise<void>((r) => p1.conn.on('close', () => r()));
    p1.conn.send({ type: MsgType.Peers, peers: Array.from({ length: 1000 }, (_, i) => `127.0.0.2:${20000 + i}`) });
    await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
    expect(a.listCandidates('f').length).toBe(before);
    expect(p1.conn.closed).toBe(true);

    // Many small lists: only a bounded number of addresses is taken, and they are dropped after failing.
    const p2 = await rawPeer(a.port, s.encrypted);
    cleanups.push(() => p2.conn.destroy());
    for (let k = 0; k < 10; k++) p2.conn.send({ type: MsgType.Peers, peers: Array.from({ length: 32 }, (_, i) => `127.0.0.2:${21000 + k * 32 + i}`) });
    await waitFor(() => a.listCandidates('f').some((c) => c.source === 'exchange'), 5000, 'exchanged addresses');
    expect(a.listCandidates('f').filter((c) => c.source === 'exchange').length).toBeLessThanOrEqual(32);
    await waitFor(() => !a.listCandidates('f').some((c) => c.address.startsWith('127.0.0.2:')), 20_000, 'dead addresses forgotten');
    expect(p2.conn.closed).toBe(false);
  });
});

describe('LAN beacons', () => {
  it('accepts a fresh beacon once and refuses replays and stale ones', async () => {
    const s = newFolderSecrets();
    const lan = new LanDiscovery({ port: 0, bind: '127.0.0.1', intervalMs: 3_600_000 }, newDeviceIdentity().device, () => 1, () => new Map([['f', parseSecret(s.readWrite).lanKey]]));
    const seen: number[] = [];
    lan.on('peer', (_id, _host, port) => seen.push(port));
    await lan.open();
    cleanups.push(() => lan.close());
    const sock = dgram.createSocket('udp4');
    cleanups.push(() => sock.close());
    const send = (b: Buffer): Promise<void> => new Promise((r) => sock.send(b, lan.port, '127.0.0.1', () => r()));
    const dev = newDeviceIdentity().device;
    const fresh = craftBeacon([s.encrypted], { device: dev, port: 4001 });
    await send(fresh);
    await waitFor(() => seen.length === 1, 5000, 'fresh beacon');
    await send(fresh); // replay
    await send(craftBeacon([s.encrypted], { device: dev, port: 4002, ts: Date.now() - 10 * 60_000 })); // stale
    await send(craftBeacon([s.encrypted], { device: dev, port: 4003 })); // fresh again: marks that the others were processed
    await waitFor(() => seen.includes(4003), 5000, 'second fresh beacon');
    expect(seen).toEqual([4001, 4003]);
  });
});
