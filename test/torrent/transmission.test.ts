/**
 * Torrents made by Burrow, served by a running NAS on 127.0.0.1, downloaded by a real client
 * (Debian's transmission-cli) with no Burrow code on its side.
 */
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { burrow, burrowBackground, exitOf } from '../helpers/cli.js';
import { tempDir, waitFor, writeFiles } from '../helpers/tmp.js';
import { transmissionDownload, sizesUnder } from '../../bench/lib/transmission.js';
import type { ChildProcess } from 'node:child_process';

const t = tempDir('burrow-torrent-');
const root = path.join(t.dir, 'nas');
let nas: { child: ChildProcess } | undefined;
let torrentPort = 0;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

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

interface Listed {
  id: string;
  state: string;
  stop_reason: string | null;
  downloads: number;
  bytes_served: number;
}
let httpPort = 0;
/** The NAS's own view (GET /api/torrents, what `burrow torrent list` shows while it runs), without a CLI process per poll. */
const listed = async (id: string) => ((await (await fetch(`http://127.0.0.1:${httpPort}/api/torrents`)).json()) as { torrents: Listed[] }).torrents.find((x) => x.id === id)!;

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
  nas = await burrowBackground(['start', '--root', root, '--host', '127.0.0.1'], 'Burrow NAS running', { env: { BURROW_NETWORK: 'private' } });
});

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
    const folder = cli(['torrent', 'album']);
    expect(folder.status, folder.stderr).toBe(0);
    expect(folder.json).toMatchObject({ files: 4 });
    // The listener opened with the first torrent.
    expect((cli(['status']).json as { torrents: { active: number } }).torrents.active).toBe(2);

    const a = await transmissionDownload(String(file.json.torrent), path.join(t.dir, 'dl-file'), 30_000);
    expect(a.complete, a.log).toBe(true);
    expect(fs.readFileSync(path.join(a.out, 'movie.bin')).equals(fs.readFileSync(path.join(root, 'files/movie.bin')))).toBe(true);

    const b = await transmissionDownload(String(folder.json.torrent), path.join(t.dir, 'dl-folder'), 30_000);
    expect(b.complete, b.log).toBe(true);
    expect(sizesUnder(path.join(b.out, 'album'))).toEqual(sizesUnder(path.join(root, 'files/album')));
    for (const rel of Object.keys(sizesUnder(path.join(root, 'files/album'))))
      expect(fs.readFileSync(path.join(b.out, 'album', rel)).equals(fs.readFileSync(path.join(root, 'files/album', rel))), rel).toBe(true);
    await waitFor(async () => (await listed(String(file.json.id))).downloads === 1, 5000);
    expect(await listed(String(file.json.id))).toMatchObject({ state: 'active', bytes_served: 3_000_000 });
  });

  it('a 1-time torrent: the first client downloads it, a second one gets no bytes', async () => {
    const once = cli(['torrent', 'once.bin', '--once']);
    expect(once.status, once.stderr).toBe(0);
    const torrent = fs.readFileSync(String(once.json.torrent));
    expect(torrent.includes(Buffer.from('7:privatei1e'))).toBe(true);
    expect(torrent.includes(Buffer.from('announce'))).toBe(false);

    const first = await transmissionDownload(String(once.json.torrent), path.join(t.dir, 'dl-once-1'), 30_000);
    expect(first.complete, first.log).toBe(true);
    expect(fs.readFileSync(path.join(first.out, 'once.bin')).equals(fs.readFileSync(path.join(root, 'files/once.bin')))).toBe(true);
    const used = await waitFor(async () => { const x = await listed(String(once.json.id)); return x.state === 'used' ? x : null; }, 5000);
    expect(used).toMatchObject({ downloads: 1, bytes_served: 1_500_000 });

    const second = await transmissionDownload(String(once.json.torrent), path.join(t.dir, 'dl-once-2'), 4_000);
    expect(second.complete).toBe(false);
    expect(Object.values(sizesUnder(second.out)).reduce((n, s) => n + s, 0)).toBe(0);
    expect((await listed(String(once.json.id))).bytes_served).toBe(1_500_000);
    const res = await fetch(String(once.json.webSeed) + 'once.bin', { headers: { range: 'bytes=0-99' } });
    expect(res.status).toBe(410);
    expect(await res.text()).toMatch(/already downloaded/);
  });

  it('a destroyed file: its torrent stops and is no longer served', async () => {
    const made = cli(['torrent', 'doomed.bin']);
    expect(made.status, made.stderr).toBe(0);
    const seed = String(made.json.webSeed) + 'doomed.bin';
    expect((await fetch(seed, { headers: { range: 'bytes=0-9' } })).status).toBe(206);
    const d = burrow(['request', 'destroy', 'doomed.bin', '--yes', '--root', root]);
    expect(d.status, d.stdout + d.stderr).toBe(0);
    await waitFor(async () => (await listed(String(made.json.id))).state === 'stopped', 5000);
    expect((await listed(String(made.json.id))).stop_reason).toBe('files/doomed.bin was destroyed');
    expect((await fetch(seed, { headers: { range: 'bytes=0-9' } })).status).toBe(410);
    const dl = await transmissionDownload(String(made.json.torrent), path.join(t.dir, 'dl-doomed'), 3_000);
    expect(dl.complete).toBe(false);
    expect(Object.values(sizesUnder(dl.out)).reduce((n, s) => n + s, 0)).toBe(0);
  });

  it('a file that changes while served: no byte of it goes out, and the torrent stops saying why', async () => {
    const made = cli(['torrent', 'changing.bin']);
    expect(made.status, made.stderr).toBe(0);
    const f = path.join(root, 'files/changing.bin');
    const fd = fs.openSync(f, 'r+');
    fs.writeSync(fd, Buffer.from('edited'), 0, 6, 1000); // same size, new mtime
    fs.closeSync(fd);
    const res = await fetch(String(made.json.webSeed) + 'changing.bin', { headers: { range: 'bytes=0-99' } });
    expect(res.status).toBe(410);
    expect(await res.text()).toMatch(/changed since its torrent was made/);
    expect(await listed(String(made.json.id))).toMatchObject({ state: 'stopped', stop_reason: 'files/changing.bin changed since its torrent was made', bytes_served: 0 });
  });

  it('burrow torrent stop, and bad input refused with clear errors', async () => {
    const made = cli(['torrent', 'movie.bin']);
    expect(cli(['torrent', 'stop', String(made.json.id)]).json).toEqual({ id: made.json.id, stopped: true });
    expect((await fetch(String(made.json.webSeed) + 'movie.bin', { headers: { range: 'bytes=0-9' } })).status).toBe(410);
    const cases: Array<[string, RegExp]> = [
      ['link.bin', /"link\.bin" is a symbolic link/],
      ['withlink', /files\/withlink\/passwd is a symbolic link/],
      ['empty-folder', /holds no file with content/],
      ['../outside.bin', /outside|\.\./i],
      ['nothing-here.bin', /does not exist|not a file|no such/i],
    ];
    for (const [p, why] of cases) {
      const r = cli(['torrent', p]);
      expect(r.status, p).toBe(1);
      expect(r.stderr, p).toMatch(why);
    }
  });
});
