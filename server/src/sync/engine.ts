/**
 * The engine: the host's single handle. It owns the TCP listener, the
 * discovery mechanisms and the dialer, and routes each authenticated
 * connection to the folder it names. Folders do the syncing.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { Connection, deviceIdentityFromSeed, type LocalIdentity } from './transport/index.js';
import { parseSecret, type SecretLevel } from './secrets/index.js';
import { SyncError } from './errors.js';
import { Folder, type LocalChange, type FileDeletedEvent, type FileEvent, type FolderErrorEvent, type FolderMode, type FolderSyncedEvent, type Progress } from './model/folder.js';
import { DhtDiscovery, LanDiscovery } from './discovery/index.js';
import { SavedIdSet } from './model/pause.js';
import { keepConflictSide, listConflicts, type ConflictInfo, type DiscardVersion, type KeepSide } from './model/conflicts.js';

export interface SyncEngineOptions {
  /** Where the engine keeps its own state (device key, one SQLite index database per folder). */
  stateDir: string;
  listen: { host: string; port: number };
  /** DHT discovery. bootstrap must be explicit: a list of host:port, or false for a first node. */
  dht?: { bootstrap: string[] | false; port?: number; host?: string; intervalMs?: number };
  /** host:port of peers to try for every folder. */
  knownHosts?: string[];
  /** LAN beacons. */
  lan?: { port: number; intervalMs?: number; broadcast?: string[]; bind?: string };
  /** How often to retry peers (ms, default 2000). */
  dialIntervalMs?: number;
  /**
   * Periodic stat-only reconcile of publishing folders (ms; 0 disables). Default: hourly
   * when the file watcher runs (it reports changes as they happen), every 60 s without one.
   */
  rescanIntervalMs?: number;
  /** Watch folders for changes (default true). */
  watch?: boolean;
}

export interface AddFolderOptions {
  /** Host-chosen id; default: hex of the folder's public id. */
  id?: string;
  path: string;
  secret: string;
  mode: FolderMode;
  /** Extra host:port peers for this folder. */
  peers?: string[];
}

export interface FolderInfo {
  id: string;
  path: string;
  mode: FolderMode;
  level: SecretLevel;
  /** Hex of the public folder identity (safe to show). */
  publicId: string;
  /** Paused by the host: not served, not dialled, nothing applied (see pauseFolder). */
  paused: boolean;
}

/** Bytes a folder's connections moved since the engine opened (closed connections included). */
export interface FolderTraffic {
  bytesIn: number;
  bytesOut: number;
}

export interface PeerInfo {
  folderId: string;
  device: string;
  address: string;
  level: SecretLevel;
  initiator: boolean;
  bytesIn: number;
  bytesOut: number;
}

export interface SyncEngineEvents {
  fileChanged: [FileEvent];
  fileDeleted: [FileDeletedEvent];
  folderSynced: [FolderSyncedEvent];
  error: [FolderErrorEvent];
}

/** Where an address came from: configuration and discovery are trusted more than what a peer tells us. */
export type CandidateSource = 'config' | 'discovery' | 'exchange';

interface Candidate {
  nextTry: number;
  failures: number;
  device?: string;
  dialing: boolean;
  self?: boolean;
  source: CandidateSource;
  answered: boolean;
}

export interface CandidateInfo {
  address: string;
  source: CandidateSource;
  failures: number;
  answered: boolean;
}

/** Handshakes in progress at once, in all and from one address: what an unauthenticated stranger may hold. */
const MAX_PENDING = 64;
const MAX_PENDING_PER_HOST = 16;
/** Addresses learnt by peer exchange, per folder. */
const MAX_EXCHANGE_CANDIDATES = 64;
/** An exchanged address that never answered is forgotten after this many failed dials. */
const EXCHANGE_MAX_FAILURES = 4;
const EXCHANGE_FORGET_AFTER = 12;
const EXCHANGE_MAX_BACKOFF_MS = 5 * 60_000;

export class SyncEngine extends EventEmitter<SyncEngineEvents> {
  private readonly opts: SyncEngineOptions;
  private server: net.Server | null = null;
  private folders = new Map<string, Folder>();
  private byPublicId = new Map<string, Folder>();
  private candidates = new Map<string, Map<string, Candidate>>();
  private folderPeers = new Map<string, string[]>();
  private dht: DhtDiscovery | null = null;
  private lan: LanDiscovery | null = null;
  private dialTimer: NodeJS.Timeout | null = null;
  private deviceId = '';
  private identity: LocalIdentity | null = null;
  private opened = false;
  private closing = false;
  private pendingSockets = new Set<net.Socket>();
  private pendingPerHost = new Map<string, number>();
  /** How each open or paused folder was added, so resume can open it again. */
  private added = new Map<string, AddFolderOptions & { publicId: string }>();
  private paused: SavedIdSet | null = null;
  private blocked: SavedIdSet | null = null;
  /** Bytes of connections that closed, per folder id; open ones are added when asked. */
  private closedTraffic = new Map<string, FolderTraffic>();

  constructor(opts: SyncEngineOptions) {
    super();
    this.opts = opts;
  }

  get device(): string {
    return this.deviceId;
  }

  /** The TCP port actually listened on (useful with port 0). */
  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  get dhtPort(): number {
    return this.dht?.port ?? 0;
  }

  async open(): Promise<void> {
    if (this.opened) return;
    await fs.promises.mkdir(this.opts.stateDir, { recursive: true });
    this.identity = await loadIdentity(path.join(this.opts.stateDir, 'device.json'));
    this.deviceId = this.identity.device;
    this.paused = new SavedIdSet(this.opts.stateDir, 'paused.json');
    this.paused.load();
    this.blocked = new SavedIdSet(this.opts.stateDir, 'blocked.json');
    this.blocked.load();
    const server = net.createServer((sock) => this.onInbound(sock));
    this.server = server;
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(this.opts.listen.port, this.opts.listen.host, () => {
        server.off('error', rej);
        res();
      });
    });
    if (this.opts.dht) {
      const d = new DhtDiscovery({
        bootstrap: this.opts.dht.bootstrap,
        ...(this.opts.dht.port !== undefined ? { port: this.opts.dht.port } : {}),
        host: this.opts.dht.host ?? this.opts.listen.host,
        ...(this.opts.dht.intervalMs !== undefined ? { intervalMs: this.opts.dht.intervalMs } : {}),
      });
      d.on('peer', (keyHex, host, port) => {
        for (const f of this.folders.values()) if (f.keys.dhtKey.toString('hex') === keyHex) this.addCandidate(f.id, `${host}:${port}`, 'discovery');
      });
      await d.open();
      this.dht = d;
    }
    if (this.opts.lan) {
      const l = new LanDiscovery(this.opts.lan, this.deviceId, () => this.port, () => {
        const m = new Map<string, Buffer>();
        for (const f of this.folders.values()) m.set(f.id, f.keys.lanKey);
        return m;
      });
      l.on('peer', (id, host, port) => this.addCandidate(id, `${host}:${port}`, 'discovery', true));
      await l.open();
      this.lan = l;
    }
    this.dialTimer = setInterval(() => this.dialAll(), this.opts.dialIntervalMs ?? 2000);
    this.opened = true;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.dialTimer) clearInterval(this.dialTimer);
    for (const s of this.pendingSockets) s.destroy();
    this.pendingPerHost.clear();
    await Promise.all([...this.folders.values()].map((f) => f.close()));
    this.folders.clear();
    this.added.clear();
    this.byPublicId.clear();
    await this.dht?.close();
    await this.lan?.close();
    const server = this.server;
    if (server) await new Promise<void>((res) => server.close(() => res()));
  }

  async addFolder(o: AddFolderOptions): Promise<FolderInfo> {
    if (!this.opened || this.closing) throw new SyncError('CLOSED', 'engine is not open');
    const keys = parseSecret(o.secret);
    const publicId = keys.folderId.toString('hex');
    const id = o.id ?? publicId;
    if (this.folders.has(id) || this.byPublicId.has(publicId) || this.added.has(id)) throw new SyncError('FOLDER_EXISTS', `folder ${id} is already added`);
    this.added.set(id, { ...o, id, publicId });
    if (this.paused?.has(publicId)) return this.pausedInfo(id)!;
    try {
      return await this.openFolder(o, id, keys);
    } catch (err) {
      this.added.delete(id);
      throw err;
    }
  }

  private async openFolder(o: AddFolderOptions, id: string, keys: ReturnType<typeof parseSecret>): Promise<FolderInfo> {
    const publicId = keys.folderId.toString('hex');
    const folder = new Folder({
      id,
      path: o.path,
      keys,
      mode: o.mode,
      device: this.deviceId,
      stateFile: path.join(this.opts.stateDir, 'folders', publicId + '.json'), // the database is <publicId>.db; a .json of an earlier version is imported once
      ...(this.opts.rescanIntervalMs !== undefined ? { rescanIntervalMs: this.opts.rescanIntervalMs } : {}),
      ...(this.opts.watch !== undefined ? { watch: this.opts.watch } : {}),
    });
    folder.on('fileChanged', (e) => this.emit('fileChanged', e));
    folder.on('fileDeleted', (e) => this.emit('fileDeleted', e));
    folder.on('folderSynced', (e) => this.emit('folderSynced', e));
    folder.on('error', (e) => {
      if (this.listenerCount('error')) this.emit('error', e);
    });
    folder.on('peers', (list) => {
      for (const a of list) this.addCandidate(id, a, 'exchange');
    });
    await folder.open();
    if (this.closing || !this.added.has(id)) {
      await folder.close();
      throw new SyncError('CLOSED', 'engine closed');
    }
    this.folders.set(id, folder);
    this.byPublicId.set(publicId, folder);
    this.candidates.set(id, new Map());
    this.folderPeers.set(id, o.peers ?? []);
    for (const a of [...(this.opts.knownHosts ?? []), ...(o.peers ?? [])]) this.addCandidate(id, a, 'config');
    this.dht?.add(keys.dhtKey, this.port);
    this.lan?.beacon();
    return this.info(folder);
  }

  /** Stop serving a folder at once: its connections close before this resolves. */
  async removeFolder(id: string): Promise<void> {
    const a = this.added.get(id);
    if (!a) throw new SyncError('UNKNOWN_FOLDER', `no folder ${id}`);
    this.added.delete(id);
    if (this.paused?.has(a.publicId)) await this.paused.set(a.publicId, false);
    await this.closeFolder(id);
  }

  /** Close an open folder (a paused one is closed already). */
  private async closeFolder(id: string): Promise<void> {
    const f = this.folders.get(id);
    if (!f) return;
    this.folders.delete(id);
    this.byPublicId.delete(f.keys.folderId.toString('hex'));
    this.candidates.delete(id);
    this.dht?.remove(f.keys.dhtKey);
    await f.close();
  }

  /** Every folder added, open or paused, in the order added. */
  listFolders(): FolderInfo[] {
    return [...this.added.keys()].map((id) => {
      const f = this.folders.get(id);
      return f ? this.info(f) : this.pausedInfo(id)!;
    });
  }

  private info(f: Folder): FolderInfo {
    return { id: f.id, path: f.root, mode: f.mode, level: f.keys.level, publicId: f.keys.folderId.toString('hex'), paused: false };
  }

  private pausedInfo(id: string): FolderInfo | undefined {
    const a = this.added.get(id);
    if (!a) return undefined;
    return { id, path: a.path, mode: a.mode, level: parseSecret(a.secret).level, publicId: a.publicId, paused: true };
  }

  isPaused(folderId: string): boolean {
    const a = this.added.get(folderId);
    if (!a) throw new SyncError('UNKNOWN_FOLDER', `no folder ${folderId}`);
    return !this.folders.has(folderId);
  }

  /**
   * Pause a folder: its connections close, it is no longer dialled or served, its watcher stops
   * and nothing is applied to it until resumeFolder. Kept across restarts (stateDir/paused.json).
   * Local changes made meanwhile are found by the scan that resume starts with.
   */
  async pauseFolder(folderId: string): Promise<void> {
    const a = this.added.get(folderId);
    if (!a) throw new SyncError('UNKNOWN_FOLDER', `no folder ${folderId}`);
    await this.paused!.set(a.publicId, true);
    await this.closeFolder(folderId);
  }

  /** Resume a paused folder: it opens (scanning what changed meanwhile) and dials its peers again. */
  async resumeFolder(folderId: string): Promise<void> {
    const a = this.added.get(folderId);
    if (!a) throw new SyncError('UNKNOWN_FOLDER', `no folder ${folderId}`);
    await this.paused!.set(a.publicId, false);
    if (!this.folders.has(folderId)) await this.openFolder(a, folderId, parseSecret(a.secret));
  }

  /** Bytes received and sent for a folder since the engine opened. */
  traffic(folderId: string): FolderTraffic {
    if (!this.added.has(folderId)) throw new SyncError('UNKNOWN_FOLDER', `no folder ${folderId}`);
    const t = { ...(this.closedTraffic.get(folderId) ?? { bytesIn: 0, bytesOut: 0 }) };
    for (const l of this.folders.get(folderId)?.links ?? []) {
      if (l.conn.closed) continue;
      t.bytesIn += l.conn.bytesIn;
      t.bytesOut += l.conn.bytesOut;
    }
    return t;
  }

  /**
   * Never link with this device again, in any folder (kept across restarts); links it has now
   * close. A host retiring a peer (a NAS member removed from its group) uses it. The id is bound to
   * the key the peer proves in the handshake, but whoever holds a folder secret can make a new
   * device: only new secrets shut out a peer that is not trusted.
   */
  async blockDevice(device: string): Promise<void> {
    if (!this.blocked) throw new SyncError('CLOSED', 'engine is not open');
    await this.blocked.set(device, true);
    for (const f of this.folders.values()) for (const l of f.links) if (l.conn.remoteDevice === device) l.conn.destroy();
    for (const m of this.candidates.values()) for (const [a, c] of m) if (c.device === device) m.delete(a);
  }

  isBlocked(device: string): boolean {
    return this.blocked?.has(device) ?? false;
  }

  /** Link a connection to its folder (unless its device is blocked), counting its bytes into the folder's total once it closes. */
  private attach(f: Folder, conn: Connection): void {
    if (this.blocked?.has(conn.remoteDevice)) {
      conn.destroy();
      return;
    }
    conn.once('close', () => {
      const t = this.closedTraffic.get(f.id) ?? { bytesIn: 0, bytesOut: 0 };
      t.bytesIn += conn.bytesIn;
      t.bytesOut += conn.bytesOut;
      this.closedTraffic.set(f.id, t);
    });
    f.attach(conn);
  }

  /** Conflict copies in a plaintext folder, with both versions as they are on disk. */
  listConflicts(folderId: string): ConflictInfo[] {
    const f = this.folder(folderId);
    const paths: string[] = [];
    for (const e of f.listFiles()) if (e.path && !e.deleted) paths.push(e.path);
    return listConflicts(f.root, paths);
  }

  /**
   * Keep one version of a conflict: `discard` (the host's) takes the other out of the folder;
   * keeping the copy renames it to the original name. Then the folder rescans, so the kept
   * version goes out as a new local edit (it descends from the winner, so every peer takes it).
   */
  async keepConflict(folderId: string, copyPath: string, keep: KeepSide, discard: DiscardVersion): Promise<void> {
    const f = this.folder(folderId);
    if (!this.listConflicts(folderId).some((c) => c.copy.path === copyPath)) throw new SyncError('NOT_A_CONFLICT', `${copyPath} is not a conflict copy in ${folderId}`);
    const changed = await keepConflictSide(f.root, copyPath, keep, discard);
    await f.scan(changed.map((r) => path.join(f.root, r)));
  }

  listPeers(folderId?: string): PeerInfo[] {
    const out: PeerInfo[] = [];
    for (const f of this.folders.values()) {
      if (folderId && f.id !== folderId) continue;
      for (const l of f.links) {
        if (l.conn.closed) continue;
        out.push({
          folderId: f.id,
          device: l.conn.remoteDevice,
          address: `${l.conn.remoteHost}:${l.conn.remotePort ?? 0}`,
          level: l.conn.remoteLevel,
          initiator: l.conn.initiator,
          bytesIn: l.conn.bytesIn,
          bytesOut: l.conn.bytesOut,
        });
      }
    }
    return out;
  }

  progress(folderId: string): Progress {
    const f = this.folders.get(folderId);
    if (!f && this.added.has(folderId)) return { bytesDone: 0, bytesLeft: 0, filesLeft: 0, rate: 0, inSync: false };
    if (!f) throw new SyncError('UNKNOWN_FOLDER', `no folder ${folderId}`);
    return f.progress();
  }

  /**
   * Look at the folder again now: all of it, or only these paths (relative to the folder; a
   * folder's path covers what is under it). For changes no watcher reports, such as a write
   * through another hard link of a file. A path outside the folder is ignored.
   */
  async rescan(folderId: string, paths?: readonly string[]): Promise<void> {
    const f = this.folders.get(folderId);
    if (!f && this.added.has(folderId)) return; // paused: resume scans
    if (!f) throw new SyncError('UNKNOWN_FOLDER', `no folder ${folderId}`);
    await f.scan(paths?.map((p) => path.join(f.root, p)));
  }

  /** Local changes of a receive-only folder: reported, never sent. */
  async localChanges(folderId: string): Promise<LocalChange[]> {
    return this.folder(folderId).localChanges();
  }

  /** Restore the published versions in a receive-only folder (see Folder.revert). */
  async revert(folderId: string): Promise<LocalChange[]> {
    return this.folder(folderId).revert();
  }

  private folder(folderId: string): Folder {
    const f = this.folders.get(folderId);
    if (!f && this.added.has(folderId)) throw new SyncError('PAUSED', `folder ${folderId} is paused`);
    if (!f) throw new SyncError('UNKNOWN_FOLDER', `no folder ${folderId}`);
    return f;
  }

  /** Files the engine knows in a folder (paths only at plaintext levels). */
  listFiles(folderId: string): ReturnType<Folder['listFiles']> {
    const f = this.folders.get(folderId);
    if (!f) throw new SyncError('UNKNOWN_FOLDER', `no folder ${folderId}`);
    return f.listFiles();
  }

  /** Device ids of the connected peers that hold the current version of a file (plaintext folders). */
  peersHolding(folderId: string, rel: string): string[] {
    const f = this.folders.get(folderId);
    if (!f && this.added.has(folderId)) return []; // paused: no peer is connected
    if (!f) throw new SyncError('UNKNOWN_FOLDER', `no folder ${folderId}`);
    return f.peersHolding(rel);
  }

  /** Add a peer address for a folder (tries at once). */
  addPeer(folderId: string, address: string): void {
    this.addCandidate(folderId, address, 'config', true);
  }

  /** The addresses the engine dials for a folder, and how they fare. */
  listCandidates(folderId: string): CandidateInfo[] {
    const m = this.candidates.get(folderId);
    if (!m) throw new SyncError('UNKNOWN_FOLDER', `no folder ${folderId}`);
    return [...m].map(([address, c]) => ({ address, source: c.source, failures: c.failures, answered: c.answered }));
  }

  /** Announce and look up on the DHT now. */
  refreshDiscovery(): void {
    this.dht?.refreshAll();
    this.lan?.beacon();
  }

  /* ---------------- connections ---------------- */

  private me(): LocalIdentity {
    return { ...this.identity!, port: this.port };
  }

  private onInbound(sock: net.Socket): void {
    if (this.closing) {
      sock.destroy();
      return;
    }
    const host = sock.remoteAddress ?? '';
    const fromHost = this.pendingPerHost.get(host) ?? 0;
    if (this.pendingSockets.size >= MAX_PENDING || fromHost >= MAX_PENDING_PER_HOST) {
      // Too many unauthenticated connections: refuse before reading a byte.
      sock.destroy();
      return;
    }
    this.pendingSockets.add(sock);
    this.pendingPerHost.set(host, fromHost + 1);
    const settled = (): void => {
      if (!this.pendingSockets.delete(sock)) return;
      const n = (this.pendingPerHost.get(host) ?? 1) - 1;
      if (n > 0) this.pendingPerHost.set(host, n);
      else this.pendingPerHost.delete(host);
    };
    sock.on('error', () => undefined);
    let chosen: Folder | undefined;
    Connection.accept(
      sock,
      (fid) => {
        chosen = this.byPublicId.get(fid.toString('hex'));
        return chosen?.keys ?? null;
      },
      () => this.me(),
    ).then(
      (conn) => {
        settled();
        const f = chosen;
        if (!f || f.isClosed || this.folders.get(f.id) !== f || conn.remoteDevice === this.deviceId) {
          conn.destroy();
          return;
        }
        this.attach(f, conn);
      },
      (e: Error) => {
        settled();
        if (e instanceof SyncError && e.code !== 'UNKNOWN_FOLDER' && this.listenerCount('error')) {
          this.emit('error', { folderId: chosen?.id ?? '', error: e, peer: sock.remoteAddress ?? '' });
        }
      },
    );
  }

  private addCandidate(folderId: string, address: string, source: CandidateSource, now = false): void {
    const m = this.candidates.get(folderId);
    if (!m) return;
    const a = normAddr(address);
    if (!a) return;
    if (a === `${this.opts.listen.host}:${this.port}` || a === `127.0.0.1:${this.port}` && this.opts.listen.host === '0.0.0.0') return;
    let c = m.get(a);
    if (!c) {
      if (source === 'exchange') {
        let exchanged = 0;
        for (const x of m.values()) if (x.source === 'exchange') exchanged++;
        if (exchanged >= MAX_EXCHANGE_CANDIDATES) return;
      }
      c = { nextTry: 0, failures: 0, dialing: false, source, answered: false };
      m.set(a, c);
      now = true;
    } else if (source !== 'exchange' && c.source === 'exchange') c.source = source;
    if (now && !c.self) {
      if (c.source !== 'exchange' || c.failures === 0) c.nextTry = 0;
      this.dial(folderId, a, c);
    }
  }

  private dialAll(): void {
    for (const [fid, m] of this.candidates) for (const [a, c] of m) this.dial(fid, a, c);
  }

  private dial(folderId: string, addr: string, c: Candidate): void {
    const f = this.folders.get(folderId);
    if (!f || c.dialing || c.self || Date.now() < c.nextTry || this.closing) return;
    if (c.device && [...f.links].some((l) => !l.conn.closed && l.conn.remoteDevice === c.device)) return;
    const i = addr.lastIndexOf(':');
    const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(addr.slice(i + 1));
    c.dialing = true;
    Connection.connect(host, port, f.keys, this.me()).then(
      (conn) => {
        c.dialing = false;
        c.failures = 0;
        c.answered = true;
        c.device = conn.remoteDevice;
        if (this.blocked?.has(conn.remoteDevice)) {
          this.candidates.get(folderId)?.delete(addr);
          conn.destroy();
          return;
        }
        if (conn.remoteDevice === this.deviceId) {
          c.self = true;
          conn.destroy();
          return;
        }
        if (f.isClosed || this.folders.get(folderId) !== f) {
          conn.destroy();
          return;
        }
        this.attach(f, conn);
      },
      () => {
        c.dialing = false;
        c.failures++;
        const iv = this.opts.dialIntervalMs ?? 2000;
        if (c.source === 'exchange') {
          // A peer may name any address: one that never answers is dropped soon, so it
          // is neither dialled forever nor sent our folder id again and again.
          if (c.failures >= (c.answered ? EXCHANGE_FORGET_AFTER : EXCHANGE_MAX_FAILURES)) {
            this.candidates.get(folderId)?.delete(addr);
            return;
          }
          c.nextTry = Date.now() + Math.min(EXCHANGE_MAX_BACKOFF_MS, iv * 2 ** c.failures);
          return;
        }
        c.nextTry = Date.now() + Math.min(30_000, iv * 8, iv * 2 ** Math.min(c.failures - 1, 5));
      },
    );
  }
}

/**
 * The device's key pair, kept in device.json (owner-only). A file from before
 * protocol 2 holds only a random id: the device then gets a new key and the id
 * that key proves (older version-vector entries simply stay in history).
 */
async function loadIdentity(file: string): Promise<LocalIdentity> {
  try {
    const d = JSON.parse(await fs.promises.readFile(file, 'utf8')) as { device?: string; seed?: string };
    const seed = Buffer.from(d.seed ?? '', 'base64');
    if (seed.length === 32) {
      const id = deviceIdentityFromSeed(seed);
      if (id.device === d.device) return id;
    }
  } catch {
    // missing or unreadable: make a new identity below
  }
  const seed = crypto.randomBytes(32);
  const id = deviceIdentityFromSeed(seed);
  const tmp = file + '.' + crypto.randomBytes(4).toString('hex') + '.tmp';
  await fs.promises.writeFile(tmp, JSON.stringify({ v: 2, device: id.device, seed: seed.toString('base64') }), { mode: 0o600 });
  await fs.promises.rename(tmp, file);
  return id;
}

function normAddr(a: string): string | null {
  const i = a.lastIndexOf(':');
  if (i <= 0) return null;
  const port = Number(a.slice(i + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return null;
  let host = a.slice(0, i).replace(/^::ffff:/, '');
  if (host === 'localhost') host = '127.0.0.1';
  return `${host}:${port}`;
}
