import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { Logger } from 'pino';
import type { AnchoredDir } from '../anchored-fs/index.js';
import type { TorrentFile } from '../store/torrents-repo.js';
import { mismatch, type PieceReader } from './piece-reader.js';

/** Errors that mean the torrent's file is no longer there (ESYMLINK: a folder on the way became a symlink). */
const GONE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ESYMLINK', 'EBADNAME']);
import { plainIp } from './rate-limit.js';

/** What the listener needs to know of one active torrent. */
export interface Served {
  id: string;
  kind: 'public' | 'once';
  name: string;
  single: boolean;
  token: string;
  infoHash: string;
  pieceLength: number;
  totalBytes: number;
  files: Array<TorrentFile & { offset: number; inner: string }>;
  reader: PieceReader;
}

export interface SeedHooks {
  byToken(token: string): Served | undefined;
  /** Why a token no longer serves (used once, stopped, file changed), or undefined if never known. */
  endedReason(token: string): string | undefined;
  metainfo(token: string): Buffer | undefined;
  /** Null when `ip` may have bytes of `t`, else why not (a 1-time torrent's second recipient). */
  admit(t: Served, ip: string): string | null;
  /** The file no longer matches its pieces: stop the torrent, with this reason. */
  changed(t: Served, reason: string): void;
  /** Bytes [start, end) of the torrent went out to `ip`. */
  sent(t: Served, ip: string, start: number, end: number): void;
  /** GET /tr/<passkey>/<announce|scrape>: the tracker. */
  tracker(req: http.IncomingMessage, res: http.ServerResponse, passkey: string, action: string): void;
  /** A connection that opened with a BitTorrent handshake: the peer wire. */
  peer(socket: net.Socket): void;
}

export interface ListenerLimits {
  /** Connections from outside at once (web seed, tracker and peer wire together). */
  maxConnections: number;
  maxConnectionsPerAddress: number;
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
 * The listener serves only GET and HEAD over HTTP; any connection that opens otherwise is a peer
 * (a plain handshake starts with the byte 19, an encrypted one (MSE) with random key bytes).
 */
const HTTP_START = /^(GET |HEAD)$/;

/**
 * The NAS's listener for people outside the home, one TCP port for everything: a connection that
 * opens with GET or HEAD goes to HTTP, any other (a BitTorrent handshake, plain or encrypted) to
 * the peer wire. On HTTP, where
 * `GET /ws/<token>/<name>[/<path>]` is the BEP 19 web seed (with HTTP Range), `GET /t/<token>.torrent`
 * the .torrent and `GET /tr/<passkey>/announce` the tracker. Before sending a byte the web seed
 * checks that the file is still the one whose pieces were hashed; a changed file stops the torrent.
 */
export class SeedServer {
  private server: net.Server | undefined;
  private readonly http: http.Server;
  private readonly perAddress = new Map<string, number>();
  /** Every socket the listener accepted and not yet closed, HTTP and peer wire alike. */
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly hooks: SeedHooks,
    private readonly store: AnchoredDir,
    private readonly limits: ListenerLimits,
    private readonly log: Logger,
  ) {
    this.http = http.createServer((req, res) => this.handle(req, res));
    this.http.keepAliveTimeout = 30_000;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  async listen(host: string, port: number): Promise<number> {
    if (this.server) return (this.server.address() as net.AddressInfo).port;
    const server = net.createServer((socket) => this.accept(socket));
    server.maxConnections = this.limits.maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => (server.off('error', reject), resolve()));
    });
    this.server = server;
    return (server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    const closed = new Promise<void>((r) => s.close(() => r()));
    // net.Server.close waits for every accepted socket to end, and http.Server's
    // closeAllConnections does not see the sockets handed to it by emit('connection'): a client's
    // idle keep-alive connection held a NAS's shutdown for the whole 30 s keepAliveTimeout.
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private accept(socket: net.Socket): void {
    const ip = plainIp(socket.remoteAddress);
    const n = (this.perAddress.get(ip) ?? 0) + 1;
    if (n > this.limits.maxConnectionsPerAddress) return void socket.destroy();
    this.perAddress.set(ip, n);
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      const left = (this.perAddress.get(ip) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(ip);
      else this.perAddress.set(ip, left);
    });
    socket.on('error', () => socket.destroy());
    socket.setTimeout(60_000, () => socket.destroy());
    const sniff = () => {
      const head = socket.read(4) as Buffer | null;
      if (!head) return; // fewer than 4 bytes so far
      socket.off('readable', sniff);
      socket.unshift(head);
      socket.setTimeout(0);
      if (HTTP_START.test(head.toString('latin1'))) this.http.emit('connection', socket);
      else this.hooks.peer(socket);
    };
    socket.on('readable', sniff);
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
    const am = /^\/tr\/([0-9a-f]{32})\/(announce|scrape)$/.exec(pathname);
    if (am) return this.hooks.tracker(req, res, am[1]!, am[2]!);
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
    const ip = plainIp(req.socket.remoteAddress);
    const refused = this.hooks.admit(t, ip);
    if (refused) return fail(403, refused);
    const range = parseRange(req.headers.range, f.size);
    if (range === 'bad') {
      res.writeHead(416, { 'content-range': `bytes */${f.size}` });
      return void res.end();
    }
    const [start, end] = range ?? [0, f.size - 1];
    let fd: number;
    try {
      // Opened without following a symlink anywhere on the way; fstat then checks the very inode read.
      fd = this.store.openFile(f.path, fs.constants.O_RDONLY);
    } catch (err) {
      // Only a file that is really gone (or now behind a symlink) ends the torrent: a passing
      // failure (too many open files, an I/O error) must not stop a public torrent for good.
      if (!GONE.has((err as NodeJS.ErrnoException).code ?? '')) {
        this.log.warn({ err, torrent: t.id }, 'opening a torrent file failed; answered 503');
        return fail(503, 'This file cannot be read right now; try again later.');
      }
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
      fs.stat(this.store.base + '/' + f.path, (err, st) => {
        if (err && !GONE.has(err.code ?? '')) return; // not known to be gone: neither counted nor ended
        const late = err ? `files/${f.path} is gone (destroyed, deleted or moved)` : mismatch(st, f);
        if (late) return this.hooks.changed(t, late);
        this.hooks.sent(t, ip, f.offset + start, f.offset + end + 1);
      });
    });
  }
}
