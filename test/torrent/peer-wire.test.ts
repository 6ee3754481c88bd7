/**
 * The NAS as tracker and seed: transmission-cli downloads torrents made by Burrow with the web
 * seed removed from the .torrent (url-list is outside the info dict, so the info hash stays), so
 * every byte comes over the BitTorrent peer wire from the NAS, found through its HTTP tracker.
 * 1-time torrents hold over this path too, across NAS restarts. The NAS listens on 127.0.0.1;
 * Transmission refuses loopback peers, so it runs in a network namespace made by the test, where
 * 10.77.0.1 is bridged to the NAS (bench/lib/netns-bridge.ts). Nothing leaves the machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import bencode from 'bencode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { ownerFetch } from '../helpers/nas-auth.js';
import { burrow, burrowBackground, exitOf } from '../helpers/cli.js';
import { tempDir, waitFor, writeFiles } from '../helpers/tmp.js';
import { transmissionDownload, sizesUnder } from '../../bench/lib/transmission.js';
import { openBridge, type NetnsBridge } from '../../bench/lib/netns-bridge.js';
import { freePort } from '../agent/harness.js';

const t = tempDir('burrow-peerwire-');
const root = path.join(t.dir, 'nas');
let nas: { child: ChildProcess } | undefined;
let httpPort = 0;
let torrentPort = 0;
let bridge: NetnsBridge;
const BRIDGE_IP = '10.77.0.1';
/** A URL from a .torrent (the public address, inside the namespace) as the test reaches it on the host. */
const onHost = (url: string) => url.replace(`//${BRIDGE_IP}:`, '//127.0.0.1:');
/** transmission-cli inside the namespace. */
const download = (torrent: string, dir: string, ms: number, stopWhen?: () => Promise<boolean>) => transmissionDownload(torrent, path.join(t.dir, dir), ms, bridge, stopWhen);

async function startNas(): Promise<void> {
  nas = await burrowBackground(['start', '--root', root, '--host', '127.0.0.1'], 'Burrow NAS running', { env: { BURROW_NETWORK: 'private' }, timeoutMs: 90_000 });
}
async function stopNas(): Promise<void> {
  if (!nas) return;
  const asked = Date.now();
  nas.child.kill('SIGTERM');
  await exitOf(nas.child);
  nas = undefined;
  // A client's idle keep-alive connection (the web-seed fetches below leave one) once held the
  // NAS's shutdown for the listener's whole 30 s keep-alive timeout.
  expect(Date.now() - asked, 'the NAS took this long to stop').toBeLessThan(10_000);
}

let seq = 0;
async function request(action: string, p: string, confirm = false): Promise<{ state: string; reason?: string; result: Record<string, unknown> }> {
  const body = { id: `peerwire-test-${process.pid}-${seq++}`, device: '@nas', action, path: p, args: {}, confirm };
  const res = await ownerFetch(root, `http://127.0.0.1:${httpPort}/api/requests?wait=60000`, { method: 'POST', body: JSON.stringify(body) });
  return (await res.json()) as never;
}

/** Make a torrent through the NAS, and a copy of its .torrent without the web seed: tracker + peer wire only. */
async function make(p: string, once = false): Promise<{ id: string; peerOnly: string; webSeed: string; announce: string }> {
  const st = await request(once ? 'torrent-once' : 'torrent', p);
  expect(st.state, st.reason).toBe('done');
  const meta = bencode.decode(fs.readFileSync(path.join(root, String(st.result.torrentPath)))) as Record<string, unknown>;
  expect(Buffer.from(meta.announce as Uint8Array).toString()).toBe(String(st.result.announce));
  delete meta['url-list'];
  const peerOnly = path.join(t.dir, `${st.result.torrentId}-peer-only.torrent`);
  fs.writeFileSync(peerOnly, bencode.encode(meta as never));
  return { id: String(st.result.torrentId), peerOnly, webSeed: onHost(String(st.result.webSeed)), announce: onHost(String(st.result.announce)) };
}

interface Listed {
  id: string;
  state: string;
  stop_reason: string | null;
  downloads: number;
  bytes_served: number;
  once_covered: number | null;
  info_hash: string;
}
const listed = async (id: string) => ((await (await ownerFetch(root, `http://127.0.0.1:${httpPort}/api/torrents`)).json()) as { torrents: Listed[] }).torrents.find((x) => x.id === id)!;
/** An announce's query string, as a client sends it (info_hash as percent-encoded bytes). */
const announceQuery = (infoHashHex: string, left: number) =>
  `info_hash=${Buffer.from(infoHashHex, 'hex').toString('hex').replace(/../g, '%$&')}&peer_id=-XX0000-123456789012&port=6881&uploaded=0&downloaded=0&left=${left}&compact=1&event=started`;
const announce = async (url: string, infoHashHex: string, left: number) => bencode.decode(Buffer.from(await (await fetch(`${url}?${announceQuery(infoHashHex, left)}`)).arrayBuffer())) as Record<string, Uint8Array>;
const bytesUnder = (dir: string) => Object.values(sizesUnder(dir)).reduce((n, s) => n + s, 0);
const same = (a: string, b: string) => fs.readFileSync(a).equals(fs.readFileSync(b));

beforeAll(async () => {
  expect(burrow(['init', '--root', root]).status).toBe(0);
  httpPort = await freePort();
  torrentPort = await freePort();
  const cfgFile = path.join(root, '.burrow/config.yaml');
  const cfg = fs
    .readFileSync(cfgFile, 'utf8')
    .replace('  port: 7420', `  port: ${httpPort}`)
    .replace('  port: 7421', '  port: 0')
    // The torrent section's own publicUrl (http: has one too, for the phone web app).
    .replace(/  host: 0\.0\.0\.0\n  port: 7425\n((?:  #.*\n)*)  publicUrl: ""/, (_m, comments: string) => `  host: 127.0.0.1\n  port: ${torrentPort}\n${comments}  publicUrl: "http://${BRIDGE_IP}:${torrentPort}"`);
  expect(cfg).toContain(`publicUrl: "http://${BRIDGE_IP}`);
  expect(cfg).toContain(`port: ${torrentPort}`);
  fs.writeFileSync(cfgFile, cfg);
  writeFiles(path.join(root, 'files'), {
    'big.bin': crypto.randomBytes(3_000_000),
    'tree/a.bin': crypto.randomBytes(700_000),
    'tree/sub/b.bin': crypto.randomBytes(1_300_001),
    'tree/sub/deeper/c.txt': 'c\n',
    'once.bin': crypto.randomBytes(2_000_000),
    'doomed.bin': crypto.randomBytes(800_000),
    'changing.bin': crypto.randomBytes(600_000),
  });
  await startNas();
  bridge = await openBridge(torrentPort, BRIDGE_IP);
}, 180_000);

afterAll(async () => {
  await bridge?.close();
  await stopNas();
  t.cleanup();
});

describe('the NAS as tracker and peer-wire seed, downloaded by transmission-cli', () => {
  it('a single file and a nested folder download over the peer wire only, byte for byte', async () => {
    const file = await make('big.bin');
    const folder = await make('tree');
    // The tracker answers with the NAS itself as the peer (compact form, its public address and port).
    const infoHash = (await listed(file.id)).info_hash;
    const ann = await announce(file.announce, infoHash, 3_000_000);
    expect(ann['failure reason']).toBeUndefined();
    expect([...Buffer.from(ann.peers!).subarray(0, 6)]).toEqual([10, 77, 0, 1, torrentPort >> 8, torrentPort & 0xff]);
    // A wrong passkey gets a failure reason, not peers.
    const wrong = await announce(file.announce.replace(/\/tr\/[0-9a-f]{32}\//, `/tr/${'0'.repeat(32)}/`), infoHash, 3_000_000);
    expect(Buffer.from(wrong['failure reason']!).toString()).toMatch(/passkey/i);
    expect(wrong.peers).toBeUndefined();

    // Two clients at once: each waits up to 10 s for Transmission's rechoke pulse before it asks.
    const [a, b] = await Promise.all([download(file.peerOnly, 'dl-big', 90_000), download(folder.peerOnly, 'dl-tree', 90_000)]);
    expect(a.complete, a.log).toBe(true);
    expect(same(path.join(a.out, 'big.bin'), path.join(root, 'files/big.bin'))).toBe(true);
    expect(b.complete, b.log).toBe(true);
    expect(sizesUnder(path.join(b.out, 'tree'))).toEqual(sizesUnder(path.join(root, 'files/tree')));
    for (const rel of Object.keys(sizesUnder(path.join(root, 'files/tree')))) expect(same(path.join(b.out, 'tree', rel), path.join(root, 'files/tree', rel)), rel).toBe(true);
    await waitFor(async () => (await listed(file.id)).downloads === 1, 10_000, 200);
    expect((await listed(file.id)).bytes_served).toBeGreaterThanOrEqual(3_000_000);
    expect((await listed(folder.id)).state).toBe('active');
  }, 240_000);

  it('a 1-time torrent over the peer wire: partial progress survives a restart, the first client succeeds, a second gets no bytes, also after a restart', async () => {
    const once = await make('once.bin', true);
    // The recipient's first 100 bytes (web seed), remembered across a NAS restart.
    expect((await fetch(once.webSeed + 'once.bin', { headers: { range: 'bytes=0-99' } })).status).toBe(206);
    await waitFor(async () => (await listed(once.id)).once_covered === 100, 10_000, 100);
    await stopNas();
    await startNas();
    expect(await listed(once.id)).toMatchObject({ state: 'active', once_covered: 100 });

    const first = await download(once.peerOnly, 'dl-once-1', 90_000);
    expect(first.complete, first.log).toBe(true);
    expect(same(path.join(first.out, 'once.bin'), path.join(root, 'files/once.bin'))).toBe(true);
    const used = await waitFor(async () => { const x = await listed(once.id); return x.state === 'used' ? x : null; }, 10_000, 200);
    expect(used).toMatchObject({ downloads: 1, once_covered: 2_000_000 });

    for (const round of ['before', 'after'] as const) {
      if (round === 'after') {
        await stopNas();
        await startNas();
        expect((await listed(once.id)).state).toBe('used');
      }
      const served = (await listed(once.id)).bytes_served;
      const second = await download(once.peerOnly, `dl-once-2-${round}`, 6_000);
      expect(second.complete).toBe(false);
      expect(bytesUnder(second.out), round).toBe(0);
      expect((await listed(once.id)).bytes_served).toBe(served);
      const res = await fetch(once.webSeed + 'once.bin', { headers: { range: 'bytes=0-99' } });
      expect(res.status).toBe(410);
      const refused = await announce(once.announce, (await listed(once.id)).info_hash, 2_000_000);
      expect(Buffer.from(refused['failure reason']!).toString()).toMatch(/already downloaded/);
    }
  }, 240_000);

  it('a destroyed file: its torrent is no longer served on either path', async () => {
    const made = await make('doomed.bin');
    expect((await request('destroy', 'doomed.bin', true)).state).toBe('done');
    await waitFor(async () => (await listed(made.id)).state === 'stopped', 10_000, 100);
    expect((await fetch(made.webSeed + 'doomed.bin', { headers: { range: 'bytes=0-9' } })).status).toBe(410);
    const dl = await download(made.peerOnly, 'dl-doomed', 5_000);
    expect(dl.complete).toBe(false);
    expect(bytesUnder(dl.out)).toBe(0);
  }, 60_000);

  it('a file whose bytes change under the same size and mtime: the piece check catches it and the torrent stops saying why', async () => {
    const made = await make('changing.bin');
    const f = path.join(root, 'files/changing.bin');
    const ref = path.join(t.dir, 'mtime-ref');
    fs.writeFileSync(ref, '');
    execFileSync('touch', ['-r', f, ref]); // keeps the nanoseconds, which fs.utimes rounds
    const before = fs.statSync(f, { bigint: true }).mtimeNs;
    const fd = fs.openSync(f, 'r+');
    fs.writeSync(fd, Buffer.from('edited'), 0, 6, 1000);
    fs.closeSync(fd);
    execFileSync('touch', ['-r', ref, f]); // the stat check alone would not see it
    expect(fs.statSync(f, { bigint: true }).mtimeNs).toBe(before);
    // Transmission declares interest, and so asks for a first block, only at its next rechoke
    // pulse (every 10 s): wait for the stop rather than a fixed time.
    const dl = await download(made.peerOnly, 'dl-changing', 45_000, async () => (await listed(made.id)).state === 'stopped');
    expect(dl.complete).toBe(false);
    const x = await waitFor(async () => { const l = await listed(made.id); return l.state === 'stopped' ? l : null; }, 10_000, 100);
    expect(x.stop_reason).toMatch(/^piece 0 \(files\/changing\.bin\) no longer matches its hash/);
    // Nothing of piece 0 went out: whatever the client holds there is not the edited bytes.
    const got = path.join(dl.out, 'changing.bin');
    if (fs.existsSync(got)) expect(fs.readFileSync(got).subarray(1000, 1006).toString()).not.toBe('edited');
  }, 60_000);
});
