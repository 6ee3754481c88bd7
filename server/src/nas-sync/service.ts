import fs from 'node:fs';
import path from 'node:path';
import { SyncEngine, newFolderSecrets, secretsFromReadWrite, type FileDeletedEvent, type FileEvent, type FolderSecrets } from '../sync/index.js';
import type { FolderSync, NasContext, NasService } from '../nas-context.js';
import { SecretsRepo, type SyncFolderKind } from '../store/secrets-repo.js';
import { SharesRepo } from '../store/shares-repo.js';
import { applyAgentReport, AGENT_REPORT_REL } from './agent-report.js';
import { engineOptionsFromConfig } from './engine-options.js';
import { BurrowError } from '../errors.js';
import { anchoredAt } from '../anchored-fs/index.js';
import type { IndexChangedEvent } from '../index/indexer.js';

type Kind = SyncFolderKind;
const folderId = (kind: Kind, name: string): string => `${kind}:${name}`;
/** More changed paths than this in one folder, and the engine rescans the whole folder. */
const RESCAN_PATHS_MAX = 500;

/** The secret of a folder, made (and kept in SQLite) the first time anyone asks. */
export function ensureFolderSecrets(repo: SecretsRepo, kind: Kind, name: string): FolderSecrets {
  return secretsFromReadWrite(repo.ensure(kind, name, newFolderSecrets().readWrite).read_write);
}

/**
 * The NAS's FolderSync ('folder-sync'): one SyncEngine serving the catalogue (send-only;
 * devices hold its read-only secret), each device's devices/<d>/ (send-receive with that
 * device's agent) and each share. What a device sends is handed to the indexer, so the
 * orchestrator adopts it; links the orchestrator makes are pushed at once on 'links-changed'.
 * Devices added by another process (`burrow device add`) are picked up by a short DB poll.
 */
export class NasFolderSync implements NasService, FolderSync {
  readonly name = 'folder-sync';
  private ctx: NasContext | null = null;
  private engine: SyncEngine | null = null;
  private repo: SecretsRepo | null = null;
  private poll: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  private folderErrors = new Map<string, { message: string; peer: string | null; at: number }>();

  async open(ctx: NasContext): Promise<void> {
    this.ctx = ctx;
    this.repo = new SecretsRepo(ctx.store.db);
    const engine = new SyncEngine(engineOptionsFromConfig(ctx.config.sync, path.join(ctx.layout.state, 'sync')));
    engine.on('fileChanged', (e) => this.onReceived(e));
    engine.on('fileDeleted', (e) => this.onReceived(e));
    engine.on('error', (e) => {
      this.lastError = e.error.message;
      if (e.folderId) this.folderErrors.set(e.folderId, { message: e.error.message, peer: e.peer ?? null, at: Date.now() });
      ctx.log.warn({ folder: e.folderId, peer: e.peer, err: e.error.message }, 'sync');
    });
    if (!ctx.config.sync.enabled) {
      this.lastError = 'sync is disabled (sync.enabled: false in the config)';
      return;
    }
    try {
      await engine.open();
    } catch (err) {
      // The NAS still serves its catalogue and HTTP API; sync stays off and says why.
      this.lastError = `the sync engine could not listen on ${ctx.config.sync.host}:${ctx.config.sync.port}: ${(err as Error).message}`;
      ctx.log.error({ err: (err as Error).message }, `sync is OFF: ${this.lastError}; set sync.port in ${ctx.layout.config} or stop the other process`);
      await engine.close().catch(() => undefined);
      return;
    }
    this.engine = engine;
    ctx.log.info({ port: engine.port }, 'sync engine listening');
    await this.addFolder('catalogue', 'catalogue', ctx.layout.catalogue, 'send-only');
    await this.syncDeviceList();
    await this.syncShareList();
    ctx.events.on('links-changed', this.onLinksChanged);
    ctx.indexer.on('changed', this.onIndexChanged);
    this.poll = setInterval(() => void this.syncDeviceList().catch((err: Error) => ctx.log.warn({ err: err.message }, 'sync: device list')), 2000);
    this.poll.unref();
  }

  async close(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    this.ctx?.events.off('links-changed', this.onLinksChanged);
    this.ctx?.indexer.off('changed', this.onIndexChanged);
    await this.engine?.close();
    this.engine = null;
  }

  /** The port the engine listens on (differs from the config when it is 0). */
  get port(): number {
    return this.engine?.port ?? 0;
  }

  get syncEngine(): SyncEngine | null {
    return this.engine;
  }

  get error(): string | null {
    return this.lastError;
  }

  /** The last error the engine reported for a folder (a peer's bad message, a file it could not write). */
  folderError(folderId: string): { message: string; peer: string | null; at: number } | null {
    return this.folderErrors.get(folderId) ?? null;
  }

  async addFolder(kind: Kind, name: string, absPath: string, mode: 'send-receive' | 'send-only' | 'receive-only'): Promise<FolderSecrets> {
    const engine = this.mustEngine();
    const secrets = ensureFolderSecrets(this.repo!, kind, name);
    const id = folderId(kind, name);
    if (!engine.listFolders().some((f) => f.id === id)) {
      // Through anchored-fs when inside the root: a symlinked devices/<d> or shared/ is refused, never created outside.
      const A = anchoredAt(this.ctx!.layout.root);
      const rel = path.relative(A.base, absPath);
      if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) await fs.promises.mkdir(absPath, { recursive: true });
      else A.mkdirp(rel);
      await engine.addFolder({ id, path: absPath, secret: secrets.readWrite, mode });
    }
    return secrets;
  }

  /** Stop serving the folder first (its connections close), then forget its secret. */
  async removeFolder(kind: Kind, name: string): Promise<void> {
    const engine = this.mustEngine();
    const id = folderId(kind, name);
    if (engine.listFolders().some((f) => f.id === id)) await engine.removeFolder(id);
    this.repo!.remove(kind, name);
  }

  /** Whether a device's agent holds the current version of devices/<device>/<rel>, as its sync peer says. */
  deviceHolds(device: string, rel: string): boolean {
    const id = folderId('device', device);
    if (!this.engine?.listFolders().some((f) => f.id === id)) return false;
    return this.engine.peersHolding(id, rel).length > 0;
  }

  secretsOf(kind: Kind, name: string): FolderSecrets | undefined {
    const row = this.repo?.get(kind, name);
    return row ? secretsFromReadWrite(row.read_write) : undefined;
  }

  private mustEngine(): SyncEngine {
    if (!this.engine) throw new BurrowError('SYNC_OFF', `The sync engine is not running: ${this.lastError ?? 'the NAS is not started'}.`, 'Check sync.* in the NAS config and the NAS log, then restart the NAS.');
    return this.engine;
  }

  private async syncDeviceList(): Promise<void> {
    const ctx = this.ctx!;
    const devices = ctx.store.devices.list();
    // A removed device's folder (remove-device stops it first; this poll may have added it again meanwhile).
    const names = new Set(devices.map((d) => d.name));
    for (const f of this.engine?.listFolders() ?? []) {
      if (f.id.startsWith('device:') && !names.has(f.id.slice('device:'.length))) await this.removeFolder('device', f.id.slice('device:'.length));
    }
    for (const d of devices) {
      if (!this.engine) return;
      // devices/<d>/ missing: being removed (remove-device moved it to the trash), or not made yet.
      if (!this.engine.listFolders().some((f) => f.id === folderId('device', d.name)) && fs.existsSync(ctx.layout.device(d.name))) {
        await this.addFolder('device', d.name, ctx.layout.device(d.name), 'send-receive');
        // A device registered by another process (`burrow device add`): republish, so the
        // catalogue lists it and its folder gets .burrow/device.js.
        ctx.events.emit('links-changed', { device: d.name });
      }
    }
  }

  /**
   * Serve every active share (the shares table is the authority: a revoked share is never
   * served again, even if its folder is still on disk). Shares made while the NAS was not
   * running (`burrow share` in a shell) get their secret here.
   */
  private async syncShareList(): Promise<void> {
    const ctx = this.ctx!;
    const shares = new SharesRepo(ctx.store.db);
    for (const sh of shares.list({ active: true })) {
      const dir = ctx.layout.share(sh.id);
      // A shared folder (share-folder, with a size limit) is read-write; a share is read-only.
      if (fs.existsSync(dir)) await this.addFolder('share', sh.id, dir, sh.limit_mb !== null ? 'send-receive' : 'send-only');
    }
    for (const row of this.repo!.list('share')) {
      if (shares.get(row.name)?.state === 'revoked') this.repo!.remove('share', row.name);
    }
  }

  private readonly onLinksChanged = (ev?: { device?: string; share?: string }): void => {
    const engine = this.engine;
    if (!engine) return;
    const ids = ev?.device ? [folderId('device', ev.device)] : ev?.share ? [folderId('share', ev.share)] : engine.listFolders().map((f) => f.id);
    for (const id of ids) {
      if (engine.listFolders().some((f) => f.id === id)) void engine.rescan(id).catch(() => undefined);
    }
  };

  /**
   * The index saw paths of a device's or a share's folder change. Most of those the engine's
   * watcher saw too, but not a write through another hard link of the same file (the owner
   * editing files/x in place changes devices/<d>/x, and only files/ hears of it): without this
   * the device kept the old version until the hourly reconcile (soak seed 505).
   */
  private readonly onIndexChanged = (ev: IndexChangedEvent): void => {
    const engine = this.engine;
    if (!engine) return;
    const byFolder = new Map<string, string[]>();
    for (const c of ev.changes) {
      // An index area of a device or a share is named like its engine folder.
      if (!c.area.startsWith('device:') && !c.area.startsWith('share:')) continue;
      const paths = byFolder.get(c.area) ?? [];
      paths.push(c.path);
      byFolder.set(c.area, paths);
    }
    const open = new Set(engine.listFolders().map((f) => f.id));
    for (const [id, paths] of byFolder) {
      if (!open.has(id)) continue;
      // Thousands of paths (a folder got): one walk of the folder costs less than a stat each.
      void engine.rescan(id, paths.length > RESCAN_PATHS_MAX ? undefined : paths).catch(() => undefined);
    }
  };

  /** A device sent a file (or removed one): the indexer adopts it; .burrow/ holds agent metadata. */
  private onReceived(e: FileEvent | FileDeletedEvent): void {
    const ctx = this.ctx;
    if (ctx && e.folderId.startsWith('share:')) {
      // A friend wrote into a shared folder: remember that this inode is theirs, and let the
      // index see it now, so the request service adopts it (within the share's limit).
      const shareId = e.folderId.slice('share:'.length);
      const abs = path.join(ctx.layout.share(shareId), e.path);
      try {
        const st = fs.lstatSync(abs, { throwIfNoEntry: false });
        if (st?.isFile() && 'size' in e) ctx.store.shareAdoptions.recordReceived(shareId, e.path, st.ino);
        ctx.indexer.refresh([abs]);
      } catch (err) {
        ctx.log.warn({ err: (err as Error).message, folder: e.folderId }, 'sync: index refresh failed');
      }
      return;
    }
    if (!ctx || !e.folderId.startsWith('device:')) return;
    const device = e.folderId.slice('device:'.length);
    const abs = path.join(ctx.layout.device(device), e.path);
    if (e.path === AGENT_REPORT_REL) {
      applyAgentReport(ctx, this.repo!, device, abs);
      return;
    }
    if (e.path.startsWith('.burrow/')) {
      if (e.path === '.burrow/worklist.jsonl') {
        // Read it now rather than at the request processor's next poll.
        const requests = ctx.services.get('requests') as { pollDevice?: (device: string) => void } | undefined;
        if (typeof requests?.pollDevice === 'function') requests.pollDevice(device);
        ctx.events.emit('worklist-changed', { device });
      }
      return;
    }
    try {
      ctx.indexer.refresh([abs]);
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message, path: abs }, 'sync: index refresh failed');
    }
  }
}
