import fs from 'node:fs';
import path from 'node:path';
import { SyncEngine, type SyncEngineOptions } from '../server/src/sync/index.js';
import { resolveInside } from '../server/src/fsutil/safe-path.js';
import { BurrowError } from '../server/src/errors.js';
import { syncNetworkOptions } from '../server/src/config/sync-network.js';
import { agentPaths, type AgentConfig, type AgentPaths } from './config.js';
import { RequestBook, type WorkItem } from './requests.js';
import { loadOrCreateToken, startAgentServer, type RunningAgentServer } from './server.js';
import { ReportWriter } from './report.js';
import type { AgentStatus } from './status.js';
import { formatBytes } from '../server/src/util/format-bytes.js';
import { acquireRootLock, type RootLock } from '../server/src/root/lock.js';

export const AGENT_VERSION = '0.1.0';

/**
 * One agent per folder: a second one would fight the first over the web port, the sync state
 * and the saved config. Take this before touching the config; a lock left by an agent killed
 * with -9 is taken over (its pid is gone).
 */
export function lockAgentRoot(root: string): RootLock {
  const p = agentPaths(root);
  fs.mkdirSync(p.state, { recursive: true, mode: 0o700 });
  return acquireRootLock(path.join(p.state, 'agent.lock'), p.root, (pid) =>
    new BurrowError('AGENT_RUNNING', `A Burrow agent (pid ${pid}) is already running on ${p.root}.`, `Stop it first (kill ${pid}), or use a different --root for another device.`),
  );
}

export const FILES_FOLDER = 'files';
export const CATALOGUE_FOLDER = 'catalogue';

export interface AgentOptions {
  /** Log lines for a person (the CLI prints them); default: none. */
  log?: (msg: string) => void;
  /** Engine timing overrides (tests, benchmarks). */
  engine?: Partial<Pick<SyncEngineOptions, 'dialIntervalMs' | 'rescanIntervalMs'>>;
  /** How often status.json and the NAS report are refreshed (ms). */
  statusIntervalMs?: number;
}

/**
 * A device agent: syncs <root>/catalogue/ (read-only from the NAS) and <root>/files/ (read-write
 * with the NAS's devices/<device>/), serves the catalogue with working buttons on 127.0.0.1,
 * reports its storage limit and free space, and keeps status.json for `burrow agent status`.
 * All state is on disk (engine indexes, token, worklist), so a restart re-downloads nothing.
 */
export class Agent {
  readonly paths: AgentPaths;
  private engine: SyncEngine | null = null;
  private server: RunningAgentServer | null = null;
  private requests: RequestBook;
  private report: ReportWriter;
  private timer: NodeJS.Timeout | null = null;
  private lastError: { message: string; at: number } | null = null;
  /** The catalogue version the page last saw complete (see catalogueVersion). */
  private lastCompleteVersion: string | null = null;
  private startedAt = Date.now();

  constructor(
    readonly config: AgentConfig,
    private readonly opts: AgentOptions = {},
  ) {
    this.paths = agentPaths(config.root);
    this.requests = new RequestBook(this.paths.worklist, path.join(this.paths.catalogue, 'devices', `${config.device}.js`), config.device);
    this.report = new ReportWriter(this.paths, config, AGENT_VERSION);
  }

  get url(): string {
    return this.server?.url ?? '';
  }

  get syncEngine(): SyncEngine | null {
    return this.engine;
  }

  async open(): Promise<void> {
    const p = this.paths;
    for (const d of [p.catalogue, p.files, p.meta]) await fs.promises.mkdir(d, { recursive: true });
    await fs.promises.mkdir(p.state, { recursive: true, mode: 0o700 });
    await fs.promises.mkdir(p.tmp, { recursive: true });
    this.requests.load();
    const token = loadOrCreateToken(p.token);
    const c = this.config;
    const engine = new SyncEngine({
      stateDir: p.syncState,
      ...syncNetworkOptions(c.sync),
      knownHosts: c.nas.addresses,
      dialIntervalMs: 1000,
      ...this.opts.engine,
    });
    engine.on('error', (e) => {
      this.lastError = { message: `${e.folderId || 'sync'}: ${e.error.message}`, at: Date.now() };
    });
    engine.on('fileChanged', (e) => this.opts.log?.(`received ${e.folderId}/${e.path}`));
    try {
      await engine.open();
    } catch (err) {
      throw portError(err, `sync port ${c.sync.host}:${c.sync.port}`, '--sync-port <port> (0 picks a free one)');
    }
    this.engine = engine;
    try {
      await engine.addFolder({ id: FILES_FOLDER, path: p.files, secret: c.deviceSecret, mode: 'send-receive' });
      await engine.addFolder({ id: CATALOGUE_FOLDER, path: p.catalogue, secret: c.catalogueSecret, mode: 'receive-only' });
      this.server = await startAgentServer({
        port: c.http.port,
        catalogueDir: p.catalogue,
        filesDir: p.files,
        device: c.device,
        token,
        requests: this.requests,
        submit: (w) => this.submit(w),
        status: () => this.status(),
        version: () => this.catalogueVersion(),
        missing: (paths) => this.missing(paths),
      });
    } catch (err) {
      await this.close();
      throw portError(err, `web port 127.0.0.1:${c.http.port}`, '--port <port> (another agent or program uses this one)');
    }
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.statusIntervalMs ?? 2000);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.server?.close();
    this.server = null;
    if (this.engine) await this.writeStatus(false).catch(() => undefined);
    await this.engine?.close();
    this.engine = null;
  }

  /** Append the page's request to the worklist and push it to the NAS at once. */
  private async submit(w: WorkItem): Promise<void> {
    await this.requests.append(w);
    await this.engine?.rescan(FILES_FOLDER).catch((err: Error) => {
      this.lastError = { message: `files: ${err.message}`, at: Date.now() };
    });
  }

  /**
   * What the page compares to know the catalogue changed. Only a complete catalogue counts:
   * data/index.js can arrive before the shards it names, and a page that reloaded then showed
   * rows missing until the next publish (its version no longer changed when the shards came).
   * While the catalogue folder still wants files, the last complete version is given.
   */
  private catalogueVersion(): string {
    const now = this.catalogueFiles();
    let complete = true;
    try {
      complete = (this.engine?.progress(CATALOGUE_FOLDER).filesLeft ?? 0) === 0;
    } catch {
      // the folder is not open (the agent is stopping): nothing is arriving
    }
    if (complete || this.lastCompleteVersion === null) this.lastCompleteVersion = now;
    return this.lastCompleteVersion;
  }

  private catalogueFiles(): string {
    const parts: string[] = [];
    for (const f of ['data/index.js', 'data/summary.js']) {
      try {
        const st = fs.statSync(path.join(this.paths.catalogue, f));
        parts.push(`${st.mtimeMs}:${st.size}`);
      } catch {
        parts.push('-');
      }
    }
    return parts.join('/');
  }

  private async missing(paths: string[]): Promise<Array<{ path: string; info: string }>> {
    const out: Array<{ path: string; info: string }> = [];
    let prog: { bytesLeft: number; bytesDone: number } | null = null;
    for (const rel of paths) {
      let abs: string;
      try {
        abs = resolveInside(this.paths.files, rel).abs;
      } catch {
        continue;
      }
      if (fs.existsSync(abs)) continue;
      // Gone because this device let it go (delete, destroy, move away): not "syncing", whatever a stale catalogue says.
      if (this.requests.leaving(rel)) {
        out.push({ path: rel, info: '' });
        continue;
      }
      prog ??= this.engine ? this.engine.progress(FILES_FOLDER) : { bytesLeft: 0, bytesDone: 0 };
      const left = prog.bytesLeft;
      out.push({ path: rel, info: left > 0 ? `syncing to this device (${formatBytes(left)} left)` : 'syncing to this device' });
    }
    return out;
  }

  status(running = true): AgentStatus {
    const e = this.engine;
    const folders = e
      ? e.listFolders().map((f) => {
          const pr = e.progress(f.id);
          return { id: f.id, path: f.path, mode: f.mode, inSync: pr.inSync, bytesDone: pr.bytesDone, bytesLeft: pr.bytesLeft, filesLeft: pr.filesLeft, rate: pr.rate };
        })
      : [];
    const peers = e ? e.listPeers().map((x) => ({ folder: x.folderId, device: x.device, address: x.address, bytesIn: x.bytesIn, bytesOut: x.bytesOut })) : [];
    return {
      running,
      pid: process.pid,
      device: this.config.device,
      root: this.paths.root,
      url: this.url,
      startedAt: this.startedAt,
      updatedAt: Date.now(),
      nas: this.config.nas.addresses,
      folders,
      peers,
      bytesSynced: folders.reduce((a, f) => a + f.bytesDone, 0),
      bytesLeft: folders.reduce((a, f) => a + f.bytesLeft, 0),
      pendingRequests: this.requests.pending(),
      storage: this.report.last,
      lastError: this.lastError,
    };
  }

  private async writeStatus(running = true): Promise<void> {
    const tmp = path.join(this.paths.tmp, `status.${process.pid}.json`);
    await fs.promises.writeFile(tmp, JSON.stringify(this.status(running), null, 2) + '\n');
    await fs.promises.rename(tmp, this.paths.status);
  }

  private async tick(): Promise<void> {
    try {
      if (await this.report.refresh()) await this.engine?.rescan(FILES_FOLDER);
      await this.writeStatus();
    } catch (err) {
      this.lastError = { message: (err as Error).message, at: Date.now() };
    }
  }
}

function portError(err: unknown, what: string, fix: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') return err;
  return new BurrowError('AGENT_PORT', `The agent cannot listen on its ${what}: ${(err as Error).message}.`, `Pick another with ${fix}; it is saved in the agent config.`);
}
