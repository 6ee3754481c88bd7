import crypto from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { newFolderSecrets, parseSecret, type FolderKeys } from '../../server/src/sync/index.js';
import { Connection, newDeviceIdentity } from '../../server/src/sync/transport/index.js';
import { MsgType, type Message } from '../../server/src/sync/protocol/index.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

async function server(keys: FolderKeys): Promise<{ port: number; conns: Connection[]; errors: Error[] }> {
  const conns: Connection[] = [];
  const errors: Error[] = [];
  const srv = net.createServer((sock) => {
    Connection.accept(sock, (fid) => (fid.equals(keys.folderId) ? keys : null), () => ({ ...newDeviceIdentity(), port: 1 })).then(
      (c) => {
        conns.push(c);
        c.resume();
      },
      (e: Error) => errors.push(e),
    );
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  closers.push(() => srv.close());
  return { port: (srv.address() as net.AddressInfo).port, conns, errors };
}

describe('transport handshake', () => {
  it('authenticates levels: each side learns the highest level it can verify', async () => {
    const s = newFolderSecrets();
    const srv = await server(parseSecret(s.readOnly));
    const c1 = await Connection.connect('127.0.0.1', srv.port, parseSecret(s.readWrite), newDeviceIdentity());
    const c2 = await Connection.connect('127.0.0.1', srv.port, parseSecret(s.encrypted), newDeviceIdentity());
    closers.push(() => c1.destroy(), () => c2.destroy());
    // the read-only server cannot verify read-write: it sees "ro"; the encrypted client is "enc"
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.conns.map((c) => c.remoteLevel).sort()).toEqual(['enc', 'ro']);
    expect(c1.remoteLevel).toBe('ro');
    expect(c2.remoteLevel).toBe('enc'); // an encrypted peer can only ever confirm "enc"
  });

  it('refuses unknown folders and peers without the folder keys', async () => {
    const s = newFolderSecrets();
    const other = newFolderSecrets();
    const srv = await server(parseSecret(s.readWrite));
    await expect(Connection.connect('127.0.0.1', srv.port, parseSecret(other.readOnly), newDeviceIdentity())).rejects.toThrow();
    // knows the public folder id (and public key) but not the channel/auth keys
    const real = parseSecret(s.encrypted);
    const fake: FolderKeys = { ...real, channelKey: crypto.randomBytes(32), auth: { enc: crypto.randomBytes(32) } };
    await expect(Connection.connect('127.0.0.1', srv.port, fake, newDeviceIdentity())).rejects.toThrow(/HANDSHAKE|secret|closed/i);
    // right channel key, forged proof
    const forged: FolderKeys = { ...real, auth: { enc: crypto.randomBytes(32) } };
    await expect(Connection.connect('127.0.0.1', srv.port, forged, newDeviceIdentity())).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.conns.length).toBe(0);
  });

  it('rejects a replayed frame and closes the connection', async () => {
    const s = newFolderSecrets();
    const keys = parseSecret(s.readWrite);
    const srv = await server(keys);
    // a man-in-the-middle that records client->server chunks and replays one
    const chunks: Buffer[] = [];
    let replay: (() => void) | null = null;
    const mitm = net.createServer((inbound) => {
      const out = net.connect(srv.port, '127.0.0.1');
      inbound.on('data', (d: Buffer) => {
        chunks.push(Buffer.from(d));
        out.write(d);
      });
      out.on('data', (d: Buffer) => inbound.write(d));
      inbound.on('close', () => out.destroy());
      out.on('close', () => inbound.destroy());
      replay = () => out.write(chunks[chunks.length - 1]!);
    });
    await new Promise<void>((r) => mitm.listen(0, '127.0.0.1', () => r()));
    closers.push(() => mitm.close());
    const c = await Connection.connect('127.0.0.1', (mitm.address() as net.AddressInfo).port, keys, newDeviceIdentity());
    await new Promise((r) => setTimeout(r, 50));
    const got: Message[] = [];
    srv.conns[0]!.on('message', (m) => got.push(m));
    c.send({ type: MsgType.Peers, peers: ['10.0.0.1:1'] });
    await new Promise((r) => setTimeout(r, 50));
    expect(got.length).toBe(1);
    let closed = false;
    srv.conns[0]!.on('close', () => (closed = true));
    replay!();
    await new Promise((r) => setTimeout(r, 100));
    expect(got.length).toBe(1);
    expect(closed).toBe(true);
  });
});
