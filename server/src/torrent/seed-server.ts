import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { TorrentFile } from '../store/torrents-repo.js';
import { Coverage } from './coverage.js';

/** What the listener needs to know of one active torrent. */
export interface Served {
  id: string;
  kind: 'public' | 'once';
  name: string;
  single: boolean;
  token: string;
  totalBytes: number;
  files: Array<TorrentFile & { abs: string; offset: number; inner: string }>;
  /** Per client address: which bytes it was sent. A 'once' torrent has at most one client. */
  clients: Map<string, Coverage>;
}

export interface SeedHooks {
  byToken(token: string): Served | undefined;
  /** Why a token no longer serves (used once, stopped, file changed), or undefined if never known. */
  endedReason(token: string): string | undefined;
  metainfo(token: string): Buffer | undefined;
  /** The file no longer matches its pieces: stop the torrent, with this reason. */
  changed(t: Served, reason: string): void;
  served(t: Served, bytes: number): void;
  /** One client has now been sent every byte. */
  completed(t: Served, client: string): void;
}

/** Whether the open file is still the one that was hashed (same inode, size and mtime). */
function mismatch(st: fs.Stats, f: TorrentFile): string | null {
  if (st.ino !== f.ino || st.dev !== f.dev) return `files/${f.path} was replaced by another file`;
  if (st.size !== f.size || st.mtimeMs !== f.mtimeMs) return `files/${f.path} changed since its torrent was made`;
  return null;
}

function parseRange(h: string | undefined, size: number): [number, number] | 'bad' | null {
  if (!h) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'bad';
  if (m[1] === '') {
    const n = Math.min(size, Number(m[2]));
    return n === 0 ? 'bad' : [size - n, size - 1];
  }
  const s = Number(m[1]);
  const e = m[2] === '' ? size - 1 : Math.min(size - 1, Number(m[2]));
  return s > e || s >= size ? 'bad' : [s, e];
}

/**
 * The NAS's listener for people outside the home: `GET /ws/<token>/<name>[/<path>]` is the
 * BEP 19 web seed (with HTTP Range), `GET /t/<token>.torrent` the .torrent. Before sending a
 * byte it checks that the file is still the one whose pieces were hashed, so it never serves
 * data that does not match the torrent; a changed file stops the torrent.
 */
export class SeedServer {
  private server: http.Server | undefined;

  constructor(
    private readonly hooks: SeedHooks,
    private readonly log: Logger,
  ) {}

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  async listen(host: string, port: number): Promise<number> {
    if (this.server) return (this.server.address() as AddressInfo).port;
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => (server.off('error', reject), resolve()));
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const fail = (code: number, text: string) => {
      if (!res.headersSent) res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(text + '\n');
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'Only GET and HEAD.');
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return fail(400, 'Bad URL.');
    }
    const tm = /^\/t\/([0-9a-f]{32})\.torrent$/.exec(pathname);
    if (tm) {
      const meta = this.hooks.metainfo(tm[1]!);
      if (!meta) return fail(this.hooks.endedReason(tm[1]!) ? 410 : 404, this.hooks.endedReason(tm[1]!) ?? 'No such torrent.');
      res.writeHead(200, { 'content-type': 'application/x-bittorrent', 'content-length': meta.length, 'content-disposition': 'attachment' });
      return void res.end(req.method === 'HEAD' ? undefined : meta);
    }
    const wm = /^\/ws\/([0-9a-f]{32})\/(.+)$/.exec(pathname);
    if (!wm) return fail(404, 'Not found.');
    const token = wm[1]!;
    const t = this.hooks.byToken(token);
    if (!t) {
      const why = this.hooks.endedReason(token);
      return fail(why ? 410 : 404, why ?? 'No such torrent.');
    }
    const f = t.files.find((x) => x.inner === wm[2]);
    if (!f) return fail(404, 'No such file in this torrent.');
    const client = req.socket.remoteAddress ?? '?';
    if (!t.clients.has(client)) {
      // A one-time torrent belongs to the first client that asks for its bytes.
      if (t.kind === 'once' && t.clients.size > 0) return fail(403, 'This one-time torrent is being downloaded by someone else.');
      t.clients.set(client, new Coverage(t.totalBytes));
    }
    const range = parseRange(req.headers.range, f.size);
    if (range === 'bad') {
      res.writeHead(416, { 'content-range': `bytes */${f.size}` });
      return void res.end();
    }
    const [start, end] = range ?? [0, f.size - 1];
    let fd: number;
    try {
      // Opened without following a symlink put in its place; fstat then checks the very inode read.
      fd = fs.openSync(f.abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch {
      this.hooks.changed(t, `files/${f.path} is gone (destroyed, deleted or moved)`);
      return fail(410, 'This torrent is no longer served: its file is gone.');
    }
    const why = mismatch(fs.fstatSync(fd), f);
    if (why) {
      fs.closeSync(fd);
      this.hooks.changed(t, why);
      return fail(410, `This torrent is no longer served: ${why}.`);
    }
    res.writeHead(range ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': end - start + 1,
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${start}-${end}/${f.size}` } : {}),
    });
    if (req.method === 'HEAD') {
      fs.closeSync(fd);
      return void res.end();
    }
    const stream = fs.createReadStream('', { fd, start, end, highWaterMark: 1 << 20 });
    stream.pipe(res);
    stream.on('error', (err) => {
      this.log.warn({ err, torrent: t.id }, 'reading a torrent file failed');
      res.destroy();
    });
    res.on('finish', () => {
      // A write that raced with this read: the client's piece check rejects those bytes, and
      // the torrent stops here, so nothing else goes out.
      fs.stat(f.abs, (err, st) => {
        const late = err ? `files/${f.path} is gone (destroyed, deleted or moved)` : mismatch(st, f);
        if (late) return this.hooks.changed(t, late);
        const bytes = end - start + 1;
        this.hooks.served(t, bytes);
        const cov = t.clients.get(client);
        if (!cov) return;
        cov.add(f.offset + start, f.offset + end + 1);
        if (cov.complete()) {
          t.clients.delete(client);
          this.hooks.completed(t, client);
        }
      });
    });
  }
}
