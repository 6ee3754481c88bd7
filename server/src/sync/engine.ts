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
import { Connection } from './transport/index.js';
import { parseSecret, type SecretLevel } from './secrets/index.js';
import { SyncError } from './errors.js';
import { Folder, type FileDeletedEvent, type FileEvent, type FolderErrorEvent, type FolderMode, type FolderSyncedEvent, type Progress } from './model/folder.js';
import { DhtDiscovery, LanDiscovery } from './discovery/index.js';

export interface SyncEngineOptions {
  /** Where the engine keeps its own state (device id, one index file per folder). */
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
  /** Periodic full rescan of publishing folders (ms, default 60000; 0 disables). */
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

interface Candidate {
  nextTry: number;
  failures: number;
  device?: string;
  dialing: boolean;
  self?: boolean;
}

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
  private opened = false;
  private closing = false;
  private pendingSockets = new Set<net.Socket>();

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
    const devFile = path.join(this.opts.stateDir, 'device.json');
    try {
      const d = JSON.parse(await fs.promises.readFile(devFile, 'utf8')) as { device: string };
      if (!/^[0-9a-f]{16}$/.test(d.device)) throw new Error('bad');
      this.deviceId = d.device;
    } catch {
      this.deviceId = crypto.randomBytes(8).toString('hex');
      await fs.promises.writeFile(devFile, JSON.stringify({ device: this.deviceId }));
    }
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
        for (const f of this.folders.values()) if (f.keys.dhtKey.toString('hex') === keyHex) this.addCandidate(f.id, `${host}:${port}`);
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
      l.on('peer', (id, host, port) => this.addCandidate(id, `${host}:${port}`, true));
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
    await Promise.all([...this.folders.values()].map((f) => f.close()));
    this.folders.clear();
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
    if (this.folders.has(id) || this.byPublicId.has(publicId)) throw new SyncError('FOLDER_EXISTS', `folder ${id} is already added`);
    const folder = new Folder({
      id,
      path: o.path,
      keys,
      mode: o.mode,
      device: this.deviceId,
      stateFile: path.join(this.opts.stateDir, 'folders', publicId + '.json'),
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
      for (const a of list) this.addCandidate(id, a);
    });
    await folder.open();
    if (this.closing) {
      await folder.close();
      throw new SyncError('CLOSED', 'engine closed');
    }
    this.folders.set(id, folder);
    this.byPublicId.set(publicId, folder);
    this.candidates.set(id, new Map());
    this.folderPeers.set(id, o.peers ?? []);
    for (const a of [...(this.opts.knownHosts ?? []), ...(o.peers ?? [])]) this.addCandidate(id, a);
    this.dht?.add(keys.dhtKey, this.port);
    this.lan?.beacon();
    return this.info(folder);
  }

  /** Stop serving a folder at once: its connections close before this resolves. */
  async removeFolder(id: string): Promise<void> {
    const f = this.folders.get(id);
    if (!f) throw new SyncError('UNKNOWN_FOLDER', `no folder ${id}`);
    this.folders.delete(id);
    this.byPublicId.delete(f.keys.folderId.toString('hex'));
    this.candidates.delete(id);
    this.dht?.remove(f.keys.dhtKey);
    await f.close();
  }

  listFolders(): FolderInfo[] {
    return [...this.folders.values()].map((f) => this.info(f));
  }

  private info(f: Folder): FolderInfo {
    return { id: f.id, path: f.root, mode: f.mode, level: f.keys.level, publicId: f.keys.folderId.toString('hex') };
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
    if (!f) throw new SyncError('UNKNOWN_FOLDER', `no folder ${folderId}`);
    return f.progress();
  }

  /** Rescan a folder now (for hosts that just changed files in it). */
  async rescan(folderId: string): Promise<void> {
    const f = this.folders.get(folderId);
    if (!f) throw new SyncError('UNKNOWN_FOLDER', `no folder ${folderId}`);
    await f.scan();
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
    if (!f) throw new SyncError('UNKNOWN_FOLDER', `no folder ${folderId}`);
    return f.peersHolding(rel);
  }

  /** Add a peer address for a folder (tries at once). */
  addPeer(folderId: string, address: string): void {
    this.addCandidate(folderId, address, true);
  }

  /** Announce and look up on the DHT now. */
  refreshDiscovery(): void {
    this.dht?.refreshAll();
    this.lan?.beacon();
  }

  /* ---------------- connections ---------------- */

  private onInbound(sock: net.Socket): void {
    if (this.closing) {
      sock.destroy();
      return;
    }
    this.pendingSockets.add(sock);
    sock.on('error', () => undefined);
    let chosen: Folder | undefined;
    Connection.accept(
      sock,
      (fid) => {
        chosen = this.byPublicId.get(fid.toString('hex'));
        return chosen?.keys ?? null;
      },
      () => ({ device: this.deviceId, port: this.port }),
    ).then(
      (conn) => {
        this.pendingSockets.delete(sock);
        const f = chosen;
        if (!f || f.isClosed || this.folders.get(f.id) !== f || conn.remoteDevice === this.deviceId) {
          conn.destroy();
          return;
        }
        f.attach(conn);
      },
      (e: Error) => {
        this.pendingSockets.delete(sock);
        if (e instanceof SyncError && e.code !== 'UNKNOWN_FOLDER' && this.listenerCount('error')) {
          this.emit('error', { folderId: chosen?.id ?? '', error: e, peer: sock.remoteAddress ?? '' });
        }
      },
    );
  }

  private addCandidate(folderId: string, address: string, now = false): void {
    const m = this.candidates.get(folderId);
    if (!m) return;
    const a = normAddr(address);
    if (!a) return;
    if (a === `${this.opts.listen.host}:${this.port}` || a === `127.0.0.1:${this.port}` && this.opts.listen.host === '0.0.0.0') return;
    let c = m.get(a);
    if (!c) {
      c = { nextTry: 0, failures: 0, dialing: false };
      m.set(a, c);
      now = true;
    }
    if (now && !c.self) {
      c.nextTry = 0;
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
    Connection.connect(host, port, f.keys, { device: this.deviceId, port: this.port }).then(
      (conn) => {
        c.dialing = false;
        c.failures = 0;
        c.device = conn.remoteDevice;
        if (conn.remoteDevice === this.deviceId) {
          c.self = true;
          conn.destroy();
          return;
        }
        if (f.isClosed || this.folders.get(folderId) !== f) {
          conn.destroy();
          return;
        }
        f.attach(conn);
      },
      () => {
        c.dialing = false;
        c.failures++;
        const iv = this.opts.dialIntervalMs ?? 2000;
        c.nextTry = Date.now() + Math.min(30_000, iv * 8, iv * 2 ** Math.min(c.failures - 1, 5));
      },
    );
  }
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
