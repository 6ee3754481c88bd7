import fs from 'node:fs';
import path from 'node:path';
import type { NasContext, NasService } from '../nas-context.js';
import { TorrentsRepo, type TorrentFile, type TorrentRow } from '../store/torrents-repo.js';
import { RequestsRepo } from '../store/requests-repo.js';
import { writeFileAtomic } from '../fsutil/atomic-write.js';
import { SeedServer, type Served } from './seed-server.js';
import { unchanged } from './source-files.js';
import { torrentFilePath } from './paths.js';

/** Requests after which a torrent of the request's path must stop, and the reason given. */
const ENDS_TORRENTS: Record<string, string> = {
  destroy: 'was destroyed',
  'destroy-folder': 'was destroyed',
  revoke: 'was revoked',
  'revoke-share': 'was revoked',
};

export const TORRENT_SERVICE = 'torrents';


/**
 * Seeds the torrents the NAS made: keeps the active ones in memory for the listener, opens the
 * listener when the first is active and closes it when none is, and stops a torrent when its
 * file changes or is destroyed, when it was downloaded once ('once'), or when asked.
 */
export class TorrentService implements NasService {
  readonly name = TORRENT_SERVICE;
  private ctx!: NasContext;
  private repo!: TorrentsRepo;
  private requests!: RequestsRepo;
  private server!: SeedServer;
  private readonly active = new Map<string, Served>();
  private readonly ended = new Map<string, string>();
  private readonly onRequest = (e: { id: string }) => void this.afterRequest(e.id);
  private syncing: Promise<void> = Promise.resolve();
  port: number | undefined;

  async open(ctx: NasContext): Promise<void> {
    this.ctx = ctx;
    this.repo = new TorrentsRepo(ctx.store.db);
    this.requests = new RequestsRepo(ctx.store.db);
    this.server = new SeedServer(
      {
        byToken: (token) => this.active.get(token),
        endedReason: (token) => this.ended.get(token),
        metainfo: (token) => {
          const t = this.active.get(token);
          return t ? this.repo.get(t.id)?.metainfo : undefined;
        },
        changed: (t, reason) => this.end(t.id, 'stopped', reason),
        served: (t, bytes) => this.repo.addServed(t.id, bytes),
        completed: (t) => {
          this.repo.addDownload(t.id);
          if (t.kind === 'once') this.end(t.id, 'used', `downloaded once, complete, at ${new Date().toISOString()}`);
        },
      },
      ctx.log.child({ part: 'torrent' }),
    );
    ctx.events.on('request-updated', this.onRequest);
    await this.sync();
  }

  async close(): Promise<void> {
    this.ctx.events.off('request-updated', this.onRequest);
    await this.syncing;
    await this.server.close();
  }

  /** The listener's port while it listens. */
  get listeningPort(): number | undefined {
    return this.server.listening ? this.port : undefined;
  }

  list(): Array<Omit<TorrentRow, 'metainfo' | 'token' | 'files'>> {
    return this.repo.list().map(({ token: _t, files: _f, ...rest }) => rest);
  }

  /** `burrow torrent stop`: returns false if the torrent was not active. */
  async stop(id: string, reason = 'stopped by the owner'): Promise<boolean> {
    const ok = this.end(id, 'stopped', reason);
    await this.sync();
    return ok;
  }

  private end(id: string, state: 'stopped' | 'used', reason: string): boolean {
    const ok = this.repo.end(id, state, reason);
    for (const [token, t] of this.active)
      if (t.id === id) {
        this.active.delete(token);
        this.ended.set(token, state === 'used' ? 'This one-time torrent was already downloaded.' : `This torrent is no longer served: ${reason}.`);
      }
    if (ok) this.ctx.log.info({ torrent: id, state, reason }, 'torrent ended');
    if (this.active.size === 0) void this.sync();
    return ok;
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

  /** Bring memory and the listener in line with the table (after start, a new torrent, a stop). */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncNow()).catch((err) => this.ctx.log.error({ err }, 'torrent listener'));
    return this.syncing;
  }

  private async syncNow(): Promise<void> {
    const rows = this.repo.list({ active: true });
    const live = new Set(rows.map((r) => r.token));
    for (const token of this.active.keys()) if (!live.has(token)) this.active.delete(token);
    for (const r of rows) {
      if (this.active.has(r.token)) continue;
      const files = JSON.parse(r.files) as TorrentFile[];
      const bad = files.map((f) => unchanged(path.join(this.ctx.layout.files, f.path), f)).find((x) => x !== null);
      if (bad) {
        this.repo.end(r.id, 'stopped', bad);
        this.ended.set(r.token, `This torrent is no longer served: ${bad}.`);
        continue;
      }
      const file = torrentFilePath(this.ctx.layout.torrents, r.id);
      if (!fs.existsSync(file)) writeFileAtomic(file, this.repo.get(r.id)!.metainfo);
      let offset = 0;
      this.active.set(r.token, {
        id: r.id,
        kind: r.kind,
        name: r.name,
        single: files.length === 1 && files[0]!.path === r.source_path,
        token: r.token,
        totalBytes: r.total_bytes,
        clients: new Map(),
        files: files.map((f) => {
          const inner = f.path === r.source_path ? r.name : `${r.name}/${f.path.slice(r.source_path.length + 1)}`;
          const o = { ...f, abs: path.join(this.ctx.layout.files, f.path), offset, inner };
          offset += f.size;
          return o;
        }),
      });
    }
    const cfg = this.ctx.config.torrent;
    if (this.active.size > 0 && !this.server.listening) {
      this.port = await this.server.listen(cfg.host, cfg.port);
      this.ctx.log.info({ host: cfg.host, port: this.port }, 'torrent listener on');
    } else if (this.active.size === 0 && this.server.listening) {
      await this.server.close();
      this.ctx.log.info('torrent listener off: no active torrent');
    }
  }
}
