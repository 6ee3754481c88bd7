import fs from 'node:fs';
import dns from 'node:dns/promises';
import net from 'node:net';
import path from 'node:path';
import bencode from 'bencode';
import type { NasContext, NasService } from '../nas-context.js';
import { TorrentsRepo, type TorrentFile, type TorrentRow } from '../store/torrents-repo.js';
import { TorrentOnceRepo } from '../store/torrent-once-repo.js';
import { RequestsRepo } from '../store/requests-repo.js';
import { writeFileAtomic } from '../fsutil/atomic-write.js';
import { anchoredAt, type AnchoredDir } from '../anchored-fs/index.js';
import { SeedServer, type Served } from './seed-server.js';
import { unchanged } from './source-files.js';
import { torrentFilePath } from './paths.js';
import { Coverage } from './coverage.js';
import { OnceLedger } from './once-ledger.js';
import { PieceReader } from './piece-reader.js';
import type { PeerSeeder } from './peer-wire.js';
import type { Tracker } from './tracker.js';
import { RateLimiter } from './rate-limit.js';
import { torrentBaseUrl } from './public-url.js';

/** Requests after which a torrent of the request's path must stop, and the reason given. */
const ENDS_TORRENTS: Record<string, string> = {
  destroy: 'was destroyed',
  'destroy-folder': 'was destroyed',
  revoke: 'was revoked',
  'revoke-share': 'was revoked',
};

export const TORRENT_SERVICE = 'torrents';

/** bytes_served is written at most this often (a peer-wire block is 16 KiB; one UPDATE each would be too many). */
const SERVED_FLUSH_MS = 1000;
/** A 1-time torrent is used up once this many times its size went out, complete or not. */
const ONCE_MAX_FACTOR = 2;
/** A failed pass over the torrents is tried again after this, doubling up to the max. */
const RETRY_FIRST_MS = 2000;
const RETRY_MAX_MS = 60_000;

const endedText = (state: string, reason: string) => (state === 'used' ? 'This one-time torrent was already downloaded.' : `This torrent is no longer served: ${reason}.`);

/**
 * Seeds the torrents the NAS made, on one listener for people outside the home (web seed,
 * tracker, peer wire): keeps the active ones in memory, opens the listener when the first is
 * active and closes it when none is, and stops a torrent when its file changes or is destroyed,
 * when it was downloaded once ('once'), or when asked.
 */
export class TorrentService implements NasService {
  readonly name = TORRENT_SERVICE;
  private ctx!: NasContext;
  private repo!: TorrentsRepo;
  private onceRepo!: TorrentOnceRepo;
  private requests!: RequestsRepo;
  private store!: AnchoredDir;
  private server!: SeedServer;
  private seeder!: PeerSeeder;
  private tracker!: Tracker;
  /** By token (the web-seed secret, which is also the tracker passkey). */
  private readonly active = new Map<string, Served>();
  private readonly byInfoHash = new Map<string, Served>();
  private readonly ledgers = new Map<string, OnceLedger>();
  /** Public torrents: what each address was sent, to count complete downloads. */
  private readonly clients = new Map<string, Map<string, Coverage>>();
  private readonly ended = new Map<string, string>();
  private readonly pendingServed = new Map<string, number>();
  private servedTimer: NodeJS.Timeout | undefined;
  private readonly onRequest = (e: { id: string }) => void this.afterRequest(e.id);
  private syncing: Promise<void> = Promise.resolve();
  private peerIp: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;
  private closed = false;
  port: number | undefined;

  async open(ctx: NasContext): Promise<void> {
    this.ctx = ctx;
    this.repo = new TorrentsRepo(ctx.store.db);
    this.onceRepo = new TorrentOnceRepo(ctx.store.db);
    this.requests = new RequestsRepo(ctx.store.db);
    this.store = anchoredAt(ctx.layout.files);
    const cfg = ctx.config.torrent;
    const log = ctx.log.child({ part: 'torrent' });
    // The peer wire and the tracker (bittorrent-protocol, bittorrent-tracker) load with the service,
    // not with every command that imports the torrent module.
    const [{ PeerSeeder }, { Tracker }] = await Promise.all([import('./peer-wire.js'), import('./tracker.js')]);
    this.seeder = new PeerSeeder(
      {
        byInfoHash: (h) => this.byInfoHash.get(h),
        all: () => this.byInfoHash.values(),
        admit: (t, ip, peerId) => this.admitWire(t as Served, ip, peerId),
        changed: (t, reason) => void this.end(t.id, 'stopped', reason),
        sent: (t, ip, start, end) => this.sent(t as Served, ip, start, end),
      },
      new RateLimiter(cfg.uploadLimitKiBps * 1024),
      log,
    );
    const peerIdHex = this.seeder.peerId.toString('hex');
    this.tracker = new Tracker({
      check: (passkey, params) => this.announce(passkey, params.info_hash, params.ip, params.peer_id, params.event),
      nasPeer: () => (this.peerIp && this.port ? { ip: this.peerIp, port: this.port, peerIdHex } : undefined),
      nasOnly: (h) => this.byInfoHash.get(h)?.kind === 'once',
    });
    this.server = new SeedServer(
      {
        byToken: (token) => this.active.get(token),
        endedReason: (token) => this.ended.get(token),
        metainfo: (token) => {
          const t = this.active.get(token);
          return t ? this.repo.get(t.id)?.metainfo : undefined;
        },
        admit: (t, ip) => (t.kind === 'once' ? this.ledgers.get(t.id)!.admit(ip) : null),
        changed: (t, reason) => void this.end(t.id, 'stopped', reason),
        sent: (t, ip, start, end) => this.sent(t, ip, start, end),
        tracker: (req, res, passkey, action) => this.tracker.handle(req, res, passkey, action),
        peer: (socket) => this.seeder.accept(socket),
      },
      this.store,
      { maxConnections: cfg.maxConnections, maxConnectionsPerAddress: cfg.maxConnectionsPerAddress },
      log,
    );
    ctx.events.on('request-updated', this.onRequest);
    await this.sync();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.ctx.events.off('request-updated', this.onRequest);
    await this.syncing;
    this.flushServed();
    for (const l of this.ledgers.values()) l.saveNow();
    this.seeder.closeAll();
    this.tracker.close();
    await this.server.close();
  }

  /** The listener's port while it listens. */
  get listeningPort(): number | undefined {
    return this.server.listening ? this.port : undefined;
  }

  list(): Array<Omit<TorrentRow, 'metainfo' | 'token' | 'files'>> {
    this.flushServed();
    for (const l of this.ledgers.values()) l.saveNow();
    return this.repo.list().map(({ token: _t, files: _f, ...rest }) => rest);
  }

  /** `burrow torrent stop`: returns false if the torrent was not active. */
  async stop(id: string, reason = 'stopped by the owner'): Promise<boolean> {
    const ok = this.end(id, 'stopped', reason);
    await this.sync();
    return ok;
  }

  // ---- who may have bytes, and what went out ----

  /** Over the tracker: null lets the announce through, else its failure reason. */
  private announce(passkey: string, infoHash: string, ip: string, peerId: string, event: string | undefined): string | null {
    const t = this.active.get(passkey);
    if (!t) return this.ended.get(passkey) ?? 'Unknown passkey: this torrent is not served here.';
    if (t.infoHash !== infoHash) return 'This passkey belongs to another torrent.';
    if (t.kind !== 'once') return null;
    const why = this.ledgers.get(t.id)!.admitPeer(ip, peerId);
    if (why) return why;
    if (event === 'completed') {
      this.flushServed();
      this.repo.addDownload(t.id);
      this.end(t.id, 'used', `downloaded once (the recipient announced it complete) at ${new Date().toISOString()}`);
    }
    return null;
  }

  private admitWire(t: Served, ip: string, peerId: string): string | null {
    if (t.kind !== 'once') return null;
    return this.ledgers.get(t.id)!.isRecipient(ip, peerId) ? null : 'not the recipient of this one-time torrent';
  }

  private sent(t: Served, ip: string, start: number, end: number): void {
    this.pendingServed.set(t.id, (this.pendingServed.get(t.id) ?? 0) + (end - start));
    this.servedTimer ??= setTimeout(() => this.flushServed(), SERVED_FLUSH_MS);
    if (t.kind === 'once') {
      const ledger = this.ledgers.get(t.id)!;
      ledger.sent(start, end);
      if (ledger.coverage.complete()) {
        ledger.saveNow();
        this.flushServed();
        this.repo.addDownload(t.id);
        this.end(t.id, 'used', `downloaded once, complete, at ${new Date().toISOString()}`);
      } else if (ledger.bytesSent >= ONCE_MAX_FACTOR * t.totalBytes) {
        ledger.saveNow();
        this.end(t.id, 'used', `sent ${ONCE_MAX_FACTOR} times its size without the recipient completing it`);
      }
      return;
    }
    let perIp = this.clients.get(t.id);
    if (!perIp) this.clients.set(t.id, (perIp = new Map()));
    let cov = perIp.get(ip);
    if (!cov) perIp.set(ip, (cov = new Coverage(t.totalBytes)));
    cov.add(start, end);
    if (cov.complete()) {
      perIp.delete(ip);
      this.flushServed();
      this.repo.addDownload(t.id);
    }
  }

  private flushServed(): void {
    if (this.servedTimer) clearTimeout(this.servedTimer);
    this.servedTimer = undefined;
    for (const [id, bytes] of this.pendingServed) this.repo.addServed(id, bytes);
    this.pendingServed.clear();
  }

  private end(id: string, state: 'stopped' | 'used', reason: string): boolean {
    this.flushServed();
    const ok = this.repo.end(id, state, reason);
    for (const [token, t] of this.active)
      if (t.id === id) this.forget(token, t, endedText(state, reason));
    if (ok) this.ctx.log.info({ torrent: id, state, reason }, 'torrent ended');
    if (this.active.size === 0) void this.sync();
    return ok;
  }

  private forget(token: string, t: Served, why: string): void {
    this.active.delete(token);
    this.byInfoHash.delete(t.infoHash);
    this.ledgers.get(t.id)?.saveNow();
    this.ledgers.delete(t.id);
    this.clients.delete(t.id);
    this.ended.set(token, why);
    this.seeder.dropTorrent(t.id);
    this.tracker.forget(t.infoHash);
  }

  private async afterRequest(requestId: string): Promise<void> {
    const row = this.requests.get(requestId);
    if (!row || row.state !== 'done') return;
    const verb = ENDS_TORRENTS[row.action];
    if (verb) {
      for (const t of this.repo.list({ active: true }))
        if (t.source_path === row.path || t.source_path.startsWith(row.path + '/') || row.path === '') this.end(t.id, 'stopped', `files/${row.path} ${verb}`);
    }
    await this.sync();
  }

  /**
   * Bring memory and the listener in line with the table (after start, a new torrent, a stop).
   * A pass that failed for a passing reason (port taken, full disk), in part or whole, is tried
   * again by itself: otherwise nothing would until the next request, and every torrent's URLs
   * stay dead meanwhile (soak finding 12).
   */
  sync(): Promise<void> {
    this.syncing = this.syncing
      .then(() => this.syncNow())
      .catch((err: unknown) => {
        this.ctx.log.error({ err }, 'torrent listener');
        return true;
      })
      .then((failed) => this.retryLater(failed));
    return this.syncing;
  }

  /** One pass; true when some part of it failed and must be tried again. */
  private async syncNow(): Promise<boolean> {
    // torrent.enabled: false — nothing is served and the listener never opens (torrents stay listed).
    if (!this.ctx.config.torrent.enabled) return false;
    // Why an ended torrent's URLs answer 410, also after a restart.
    for (const r of this.repo.list()) if (r.state !== 'active' && !this.ended.has(r.token)) this.ended.set(r.token, endedText(r.state, r.stop_reason ?? 'stopped'));
    const rows = this.repo.list({ active: true });
    const live = new Set(rows.map((r) => r.token));
    for (const [token, t] of this.active) if (!live.has(token)) this.forget(token, t, 'This torrent is no longer served.');
    let failed = false;
    for (const r of rows) {
      if (this.active.has(r.token)) continue;
      try {
        this.activate(r);
      } catch (err) {
        // One torrent that cannot be set up right now (a full disk ending it, an I/O error) costs
        // only itself: the others are served, and this one is tried again (soak finding 12).
        failed = true;
        this.ctx.log.warn({ err, torrent: r.id }, 'a torrent could not be set up; trying again shortly');
      }
    }
    // The .torrent file under torrents/ is a copy of the table's metainfo for the owner to hand
    // out; one that could not be written (a full disk) does not stop the serving, and is retried.
    for (const r of rows) {
      const file = torrentFilePath(this.ctx.layout.torrents, r.id);
      if (!this.active.has(r.token) || fs.existsSync(file)) continue;
      try {
        writeFileAtomic(file, this.repo.get(r.id)!.metainfo);
      } catch (err) {
        failed = true;
        this.ctx.log.warn({ err, torrent: r.id }, 'the .torrent file could not be written; trying again shortly');
      }
    }
    const cfg = this.ctx.config.torrent;
    try {
      if (this.active.size > 0 && !this.server.listening) {
        this.port = await this.server.listen(cfg.host, cfg.port);
        this.peerIp = await this.publicIp();
        this.ctx.log.info({ host: cfg.host, port: this.port, peer: this.peerIp }, 'torrent listener on');
      } else if (this.active.size === 0 && this.server.listening) {
        this.seeder.closeAll();
        await this.server.close();
        this.ctx.log.info('torrent listener off: no active torrent');
      }
    } catch (err) {
      failed = true;
      this.ctx.log.warn({ err, host: cfg.host, port: cfg.port }, 'the torrent listener could not open; trying again shortly');
    }
    return failed;
  }

  private retryLater(failed: boolean): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (!failed || this.closed) {
      this.retryMs = RETRY_FIRST_MS;
      return;
    }
    this.retryTimer = setTimeout(() => void this.sync(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  /** Check one active row's files and start serving it; throws when that cannot be done now. */
  private activate(r: Omit<TorrentRow, 'metainfo'>): void {
    const files = JSON.parse(r.files) as TorrentFile[];
    const bad = files.map((f) => unchanged(path.join(this.ctx.layout.files, f.path), f)).find((x) => x !== null);
    if (bad) {
      this.repo.end(r.id, 'stopped', bad);
      this.ended.set(r.token, `This torrent is no longer served: ${bad}.`);
      return;
    }
    const metainfo = this.repo.get(r.id)!.metainfo;
    const hashes = Buffer.from((bencode.decode(metainfo) as { info: { pieces: Uint8Array } }).info.pieces);
    let offset = 0;
    const placed = files.map((f) => {
      const inner = f.path === r.source_path ? r.name : `${r.name}/${f.path.slice(r.source_path.length + 1)}`;
      const o = { ...f, offset, inner };
      offset += f.size;
      return o;
    });
    const t: Served = {
      id: r.id,
      kind: r.kind,
      name: r.name,
      single: files.length === 1 && files[0]!.path === r.source_path,
      token: r.token,
      infoHash: r.info_hash,
      pieceLength: r.piece_length,
      totalBytes: r.total_bytes,
      files: placed,
      reader: new PieceReader(this.store, placed, r.piece_length, r.total_bytes, hashes),
    };
    if (r.kind === 'once') this.ledgers.set(r.id, new OnceLedger(r.id, r.total_bytes, this.onceRepo));
    this.active.set(r.token, t);
    this.byInfoHash.set(r.info_hash, t);
  }

  /** The address the tracker lists for the NAS itself: the host of the public URL, resolved once. */
  private async publicIp(): Promise<string | undefined> {
    const host = new URL(torrentBaseUrl(this.ctx.config)).hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(host)) return host;
    try {
      return (await dns.lookup(host)).address;
    } catch (err) {
      this.ctx.log.warn({ err, host }, 'the torrent public name does not resolve; the tracker lists no NAS peer (the web seed still works)');
      return undefined;
    }
  }
}
