/**
 * Torrents made by Burrow, served by a running NAS on 127.0.0.1, downloaded by a real client
 * (Debian's transmission-cli) with no Burrow code on its side.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { ownerFetch } from '../helpers/nas-auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { burrow, burrowBackground, exitOf } from '../helpers/cli.js';
import { tempDir, waitFor, writeFiles } from '../helpers/tmp.js';
import { transmissionDownload, sizesUnder } from '../../bench/lib/transmission.js';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../agent/harness.js';

const t = tempDir('burrow-torrent-');
const root = path.join(t.dir, 'nas');
let nas: { child: ChildProcess } | undefined;
let torrentPort = 0;

const rnd = (n: number) => crypto.randomBytes(n);

function cli(args: string[]): { status: number | null; json: Record<string, unknown> & { error?: { code: string; message: string } }; stderr: string } {
  const r = burrow([...args, '--root', root, '--json']);
  let json = {};
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = { raw: r.stdout };
  }
  return { status: r.status, json: json as never, stderr: r.stderr };
}

let seq = 0;
/** A request through the running NAS's API (what the catalogue does), without a CLI process per call. */
async function request(action: string, p: string, args: Record<string, unknown> = {}, confirm = false): Promise<{ state: string; reason?: string; result: Record<string, unknown> }> {
  const body = { id: `torrent-test-${process.pid}-${seq++}`, device: '@nas', action, path: p, args, confirm };
  const res = await ownerFetch(root, `http://127.0.0.1:${httpPort}/api/requests?wait=60000`, { method: 'POST', body: JSON.stringify(body) });
  return (await res.json()) as never;
}
async function make(p: string, once = false): Promise<{ id: string; torrent: string; webSeed: string }> {
  const st = await request(once ? 'torrent-once' : 'torrent', p);
  expect(st.state, st.reason).toBe('done');
  return { id: String(st.result.torrentId), torrent: path.join(root, String(st.result.torrentPath)), webSeed: String(st.result.webSeed) };
}

interface Listed {
  id: string;
  state: string;
  stop_reason: string | null;
  downloads: number;
  bytes_served: number;
}
let httpPort = 0;
/** The NAS's own view (GET /api/torrents, what `burrow torrent list` shows while it runs), without a CLI process per poll. */
const listed = async (id: string) => ((await (await ownerFetch(root, `http://127.0.0.1:${httpPort}/api/torrents`)).json()) as { torrents: Listed[] }).torrents.find((x) => x.id === id)!;

beforeAll(async () => {
  expect(burrow(['init', '--root', root]).status).toBe(0);
  httpPort = await freePort();
  torrentPort = await freePort();
  const cfgFile = path.join(root, '.burrow/config.yaml');
  const cfg = fs
    .readFileSync(cfgFile, 'utf8')
    .replace('  port: 7420', `  port: ${httpPort}`)
    .replace('  port: 7421', '  port: 0')
    .replace('  host: 0.0.0.0\n  port: 7425', `  host: 127.0.0.1\n  port: ${torrentPort}`);
  expect(cfg).toContain(`port: ${torrentPort}`);
  fs.writeFileSync(cfgFile, cfg);
  writeFiles(path.join(root, 'files'), {
    'movie.bin': rnd(3_000_000),
    'album/cover.jpg': rnd(200_000),
    'album/disc1/01.flac': rnd(1_100_000),
    'album/disc1/02.flac': rnd(700_001),
    'album/disc2/bonus/notes.txt': 'liner notes\n',
    'once.bin': rnd(1_500_000),
    'doomed.bin': rnd(900_000),
    'changing.bin': rnd(600_000),
    'empty-folder/.keep-me-not': '',
  });
  fs.rmSync(path.join(root, 'files/empty-folder/.keep-me-not'));
  fs.symlinkSync('movie.bin', path.join(root, 'files/link.bin'));
  writeFiles(path.join(root, 'files'), { 'withlink/a.txt': 'a' });
  fs.symlinkSync('/etc/passwd', path.join(root, 'files/withlink/passwd'));
  nas = await burrowBackground(['start', '--root', root, '--host', '127.0.0.1'], 'Burrow NAS running', { env: { BURROW_NETWORK: 'private' }, timeoutMs: 90_000 });
}, 180_000);

afterAll(async () => {
  if (nas) {
    nas.child.kill('SIGTERM');
    await exitOf(nas.child);
  }
  t.cleanup();
});

describe('burrow torrent, served by the NAS, downloaded by transmission-cli', () => {
  it('a single file and a folder with nested folders download byte for byte', async () => {
    const file = cli(['torrent', 'movie.bin']);
    expect(file.status, file.stderr).toBe(0);
    expect(file.json).toMatchObject({ kind: 'public', bytes: 3_000_000, pieceLength: 256 * 1024 });
    expect(String(file.json.magnet)).toMatch(/^magnet:\?xt=urn:btih:[0-9a-f]{40}&/);
    expect(fs.existsSync(String(file.json.torrent))).toBe(true);
    const folder = await make('album');
    // The listener opened with the first torrent.
    expect((cli(['status']).json as { torrents: { active: number } }).torrents.active).toBe(2);

    const a = await transmissionDownload(String(file.json.torrent), path.join(t.dir, 'dl-file'), 30_000);
    expect(a.complete, a.log).toBe(true);
    expect(fs.readFileSync(path.join(a.out, 'movie.bin')).equals(fs.readFileSync(path.join(root, 'files/movie.bin')))).toBe(true);

    const b = await transmissionDownload(folder.torrent, path.join(t.dir, 'dl-folder'), 30_000);
    expect(b.complete, b.log).toBe(true);
    expect(sizesUnder(path.join(b.out, 'album'))).toEqual(sizesUnder(path.join(root, 'files/album')));
    for (const rel of Object.keys(sizesUnder(path.join(root, 'files/album'))))
      expect(fs.readFileSync(path.join(b.out, 'album', rel)).equals(fs.readFileSync(path.join(root, 'files/album', rel))), rel).toBe(true);
    await waitFor(async () => (await listed(String(file.json.id))).downloads === 1, 5000);
    expect(await listed(String(file.json.id))).toMatchObject({ state: 'active', bytes_served: 3_000_000 });
    const list = cli(['torrent', 'list']).json as unknown as Listed[];
    expect(list.map((x) => x.id)).toEqual([file.json.id, folder.id]);
  });

  it('a 1-time torrent: the first client downloads it, a second one gets no bytes', async () => {
    const once = await make('once.bin', true);
    const torrent = fs.readFileSync(once.torrent);
    expect(torrent.includes(Buffer.from('7:privatei1e'))).toBe(true);
    expect(torrent.includes(Buffer.from(`/tr/`))).toBe(true);

    const first = await transmissionDownload(once.torrent, path.join(t.dir, 'dl-once-1'), 30_000);
    expect(first.complete, first.log).toBe(true);
    expect(fs.readFileSync(path.join(first.out, 'once.bin')).equals(fs.readFileSync(path.join(root, 'files/once.bin')))).toBe(true);
    const used = await waitFor(async () => { const x = await listed(once.id); return x.state === 'used' ? x : null; }, 5000);
    expect(used).toMatchObject({ downloads: 1, bytes_served: 1_500_000 });

    const second = await transmissionDownload(once.torrent, path.join(t.dir, 'dl-once-2'), 4_000);
    expect(second.complete).toBe(false);
    expect(Object.values(sizesUnder(second.out)).reduce((n, s) => n + s, 0)).toBe(0);
    expect((await listed(once.id)).bytes_served).toBe(1_500_000);
    const res = await fetch(once.webSeed + 'once.bin', { headers: { range: 'bytes=0-99' } });
    expect(res.status).toBe(410);
    expect(await res.text()).toMatch(/already downloaded/);
  });

  it('a destroyed file: its torrent stops and is no longer served', async () => {
    const made = await make('doomed.bin');
    const seed = made.webSeed + 'doomed.bin';
    expect((await fetch(seed, { headers: { range: 'bytes=0-9' } })).status).toBe(206);
    expect((await request('destroy', 'doomed.bin', {}, true)).state).toBe('done');
    await waitFor(async () => (await listed(made.id)).state === 'stopped', 5000);
    expect((await listed(made.id)).stop_reason).toBe('files/doomed.bin was destroyed');
    expect((await fetch(seed, { headers: { range: 'bytes=0-9' } })).status).toBe(410);
    const dl = await transmissionDownload(made.torrent, path.join(t.dir, 'dl-doomed'), 3_000);
    expect(dl.complete).toBe(false);
    expect(Object.values(sizesUnder(dl.out)).reduce((n, s) => n + s, 0)).toBe(0);
  });

  it('a file that changes while served: no byte of it goes out, and the torrent stops saying why', async () => {
    const made = await make('changing.bin');
    const f = path.join(root, 'files/changing.bin');
    const fd = fs.openSync(f, 'r+');
    fs.writeSync(fd, Buffer.from('edited'), 0, 6, 1000); // same size, new mtime
    fs.closeSync(fd);
    const res = await fetch(made.webSeed + 'changing.bin', { headers: { range: 'bytes=0-99' } });
    expect(res.status).toBe(410);
    expect(await res.text()).toMatch(/changed since its torrent was made/);
    expect(await listed(made.id)).toMatchObject({ state: 'stopped', stop_reason: 'files/changing.bin changed since its torrent was made', bytes_served: 0 });
  });

  it('burrow torrent stop, revoking a share of the file, and bad input refused with clear errors', async () => {
    const made = await make('movie.bin');
    expect(cli(['torrent', 'stop', made.id]).json).toEqual({ id: made.id, stopped: true });
    expect((await fetch(made.webSeed + 'movie.bin', { headers: { range: 'bytes=0-9' } })).status).toBe(410);

    const shared = await request('share', 'movie.bin');
    const again = await make('movie.bin');
    expect((await fetch(again.webSeed + 'movie.bin', { headers: { range: 'bytes=0-9' } })).status).toBe(206);
    expect((await request('revoke', 'movie.bin', { shareId: shared.result.shareId })).state).toBe('done');
    await waitFor(async () => (await listed(again.id)).state === 'stopped', 5000);
    expect((await listed(again.id)).stop_reason).toBe('files/movie.bin was revoked');

    // The CLI says what was wrong and exits 1; the same reasons come back to the catalogue.
    const link = cli(['torrent', 'link.bin']);
    expect(link.status).toBe(1);
    expect(link.stderr).toMatch(/"link\.bin" is a symbolic link/);
    const cases: Array<[string, RegExp]> = [
      ['withlink', /files\/withlink\/passwd is a symbolic link/],
      ['empty-folder', /holds no file with content/],
      ['../outside.bin', /\.\./],
      ['nothing-here.bin', /does not exist|not a file|no such/i],
    ];
    for (const [p, why] of cases) {
      const st = await request('torrent', p);
      expect(st.state, p).toBe('failed');
      expect(st.reason, p).toMatch(why);
    }
  });
});
