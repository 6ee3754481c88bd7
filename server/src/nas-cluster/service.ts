import fs from 'node:fs';
import path from 'node:path';
import type { FileDeletedEvent, FileEvent, SyncEngine } from '../sync/index.js';
import type { GateDecision, NasContext, NasService, RequestGate } from '../nas-context.js';
import { MembersRepo, type MemberRow } from '../store/members-repo.js';
import { SecretsRepo } from '../store/secrets-repo.js';
import type { RequestRow } from '../store/requests-repo.js';
import { FILES_AREA } from '../store/entries-repo.js';
import { anchoredAt } from '../anchored-fs/index.js';
import { ensureFolderSecrets } from '../nas-sync/service.js';
import { LIVENESS_DEAD_MS } from './liveness.js';
import { ensureSelf } from './group.js';
import { Ledger, LEDGER_DIR, winningResult, type Removals } from './ledger.js';
import { refreshPlacement } from './placement-refresh.js';

export const STORE_FOLDER = 'store:files';
export const LEDGER_FOLDER = 'cluster:ledger';
const TICK_MS = 500;
const USAGE_EVERY_MS = 10_000;
/** With links to devices but none to any member for this long after a cut, a member acts alone. */
const ALONE_AFTER_MS = 30_000;
/** A member whose last live link ended this recently still counts as alive (links flap under load). */
const LIVE_GRACE_MS = 2000;
/** A claim by a member that is gone this long is taken over (documented risk: it may have run). */
const CLAIM_TAKEOVER_MS = 120_000;
const AVAILABILITY_KEEP_MS = 90 * 24 * 3600_000;
/** How long the others keep their links to a removed member, so that it can read its removal. */
const REMOVAL_GRACE_MS = Number(process.env.BURROW_REMOVAL_GRACE_MS ?? 30_000);
/** Files received from other members are indexed together, at most this many or after this long. */
const RECEIVED_BATCH = 500;
const RECEIVED_WAIT_MS = 100;
/** How often the zones holding each folder are worked out again (seconds at a million files, off the tick). */
const PLACEMENT_EVERY_MS = Number(process.env.BURROW_PLACEMENT_EVERY_MS ?? 600_000);
/** Between two computations that a change of the members triggered, at least this long. */
const PLACEMENT_GAP_MS = Math.min(PLACEMENT_EVERY_MS, 30_000);
/** The first time: soon after start (what each member holds is in the engine's saved index, so links need not be up). */
const PLACEMENT_FIRST_MS = Math.min(PLACEMENT_EVERY_MS, 5000);


interface Processor {
  requeue(id: string): void;
}

/**
 * The 'cluster' NAS service (issue 15): when this NAS is a member of a group, it syncs files/ and
 * the ledger with the other members over the NAS's own sync engine, adds every member as a peer of
 * every folder (catalogue, devices, shares), takes in the devices and members the others
 * registered, keeps the member availability log, and decides which member runs each request
 * (see docs/ARCHITECTURE.md, "Several NAS"). A NAS in no group: the service idles.
 */
export class NasClusterService implements NasService, RequestGate {
  readonly name = 'cluster';
  private ctx!: NasContext;
  private members!: MembersRepo;
  private ledger!: Ledger;
  private engine: SyncEngine | null = null;
  private timer: NodeJS.Timeout | null = null;
  private selfId = '';
  private started = false;
  private ticking = false;
  private peered = new Set<string>();
  private waiting = new Set<string>();
  private lastUsageAt = 0;
  private catchingUp = false;
  private catchUpSince: number | null = null;
  private diskFull = false;
  private storeMode: 'send-receive' | 'send-only' = 'send-receive';
  private lastError: string | null = null;
  private saidUsage: { heldFiles: number; heldBytes: number; diskFull: boolean; at: number; syncDevice: string } | null = null;

  /** In a group: every request a device or the owner makes goes through `gate` (also before the engine is up). */
  get active(): boolean {
    return this.started || this.members?.secret('store') !== undefined;
  }

  get error(): string | null {
    return this.lastError;
  }

  get selfMember(): string {
    return this.selfId;
  }

  open(ctx: NasContext): void {
    this.ctx = ctx;
    this.members = new MembersRepo(ctx.store.db);
    this.ledger = new Ledger(ctx.layout.root);
    ctx.events.on('request-updated', this.onRequestUpdated);
    this.timer = setInterval(() => {
      if (this.ticking) return; // a tick awaits the engine: never two at once
      this.ticking = true;
      this.tick()
        .catch((err: Error) => ctx.log.warn({ err: err.message }, 'cluster tick'))
        .finally(() => (this.ticking = false));
    }, TICK_MS);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.receivedTimer) clearTimeout(this.receivedTimer);
    this.ctx?.events.off('request-updated', this.onRequestUpdated);
    this.engine?.off('fileChanged', this.onReceived);
    this.engine?.off('fileDeleted', this.onReceived);
  }

  /** Start serving the group's folders once this NAS is in a group (an invite may come while it runs). */
  private async start(): Promise<boolean> {
    const { ctx } = this;
    const store = this.members.secret('store');
    const ledgerSecret = this.members.secret('ledger');
    if (!store || !ledgerSecret) return false;
    const fsync = ctx.services.get('folder-sync') as { syncEngine: SyncEngine | null } | undefined;
    const engine = fsync?.syncEngine ?? null;
    if (!engine) {
      this.lastError = 'the sync engine is not running, so this member cannot reach the others';
      return false;
    }
    const self = ensureSelf(ctx);
    this.selfId = self.id;
    this.engine = engine;
    anchoredAt(ctx.layout.root).mkdirp(LEDGER_DIR);
    engine.on('fileChanged', this.onReceived);
    engine.on('fileDeleted', this.onReceived);
    this.diskFull = this.freeBytes() < ctx.config.cluster.minFreeMb * 1024 * 1024;
    this.storeMode = this.diskFull ? 'send-only' : 'send-receive';
    if (this.diskFull) ctx.log.error({ minFreeMb: ctx.config.cluster.minFreeMb }, 'cluster: the disk is nearly full; this member takes no new files from the others until space is freed (cluster.minFreeMb)');
    await engine.addFolder({ id: LEDGER_FOLDER, path: this.ledger.dir, secret: ledgerSecret, mode: 'send-receive' });
    await engine.addFolder({ id: STORE_FOLDER, path: ctx.layout.files, secret: store, mode: this.storeMode });
    this.catchingUp = this.members.list().some((m) => !m.is_self);
    this.placementAt = Date.now() - PLACEMENT_EVERY_MS + PLACEMENT_FIRST_MS;
    this.started = true;
    ctx.log.info({ member: self.id, zone: self.zone }, 'member of a NAS group: syncing files/ with the other members');
    return true;
  }

  /**
   * Another member's file (or its removal) is now in files/: index it, so devices holding the old
   * inode are relinked. Batched: a new member receives thousands of files a second, and one
   * refresh per file (a transaction, a 'changed' event, the automatic requests' scan of devices)
   * was a tenth of its CPU in bench:multinas.
   */
  private readonly onReceived = (e: FileEvent | FileDeletedEvent): void => {
    if (e.folderId !== STORE_FOLDER) return;
    this.received.add(path.join(this.ctx.layout.files, e.path));
    if (this.received.size >= RECEIVED_BATCH) this.indexReceived();
    else this.receivedTimer ??= setTimeout(() => this.indexReceived(), RECEIVED_WAIT_MS);
  };

  private received = new Set<string>();
  private receivedTimer: NodeJS.Timeout | null = null;

  private indexReceived(): void {
    if (this.receivedTimer) clearTimeout(this.receivedTimer);
    this.receivedTimer = null;
    const paths = [...this.received];
    this.received.clear();
    if (paths.length === 0) return;
    try {
      this.ctx.indexer.refresh(paths);
    } catch (err) {
      this.ctx.log.warn({ err: (err as Error).message, files: paths.length, example: paths[0] }, 'cluster: index refresh failed');
    }
  }

  private async tick(): Promise<void> {
    if (!this.started && !(await this.start())) return;
    const engine = this.engine!;
    const now = Date.now();
    const removed = this.ledger.removed(); // read once a tick: three steps below need it
    await this.applyRemovals(engine, removed, now);
    const others = this.importMembers(removed);
    this.importDevices();
    this.exportDevices();
    this.peerEverything(engine, others);
    const live = this.liveMembers(engine, others, removed, now);
    this.updateCatchUp(engine, live, now);
    if (now - this.lastUsageAt > USAGE_EVERY_MS) {
      this.lastUsageAt = now;
      await this.writeSelf(engine, now);
      this.members.pruneAvailability(now - AVAILABILITY_KEEP_MS);
    }
    // Again when the members changed (one joined or left, a disk filled, what one holds moved),
    // at most every PLACEMENT_GAP_MS: a first computation right after start may predate them.
    const sig = JSON.stringify(this.members.list().map((m) => [m.id, m.zone, m.disk_full, m.held_files]));
    const due = now - this.placementAt > PLACEMENT_EVERY_MS || (sig !== this.placementSig && now - this.placementAt > PLACEMENT_GAP_MS);
    if (due && !this.placing) {
      this.placementAt = now;
      this.placementSig = sig;
      this.placing = true;
      void this.updatePlacement().finally(() => (this.placing = false));
    }
    if (this.waiting.size > 0) {
      const proc = (this.ctx.services.get('requests') as { processor?: Processor } | undefined)?.processor;
      const ids = [...this.waiting];
      this.waiting.clear();
      for (const id of ids) proc?.requeue(id);
    }
  }

  /** Which zones hold each folder, for `nas list`, the admin UI and the catalogue (which republishes when it changed). */
  private async updatePlacement(): Promise<void> {
    try {
      const p = await refreshPlacement(this.ctx);
      if (!p?.stored) return; // a newer one (nas list's) is stored: it is what the catalogue reads
      const key = JSON.stringify([p.summary.required, p.summary.under, p.summary.members, p.folders.filter((f) => !f.path.includes('/')).map((f) => [f.path, f.zones])]);
      if (p.summary.under > 0 && key !== this.placementKey)
        this.ctx.log.warn({ files: p.summary.under, required: p.summary.required, examples: p.summary.samples.slice(0, 5) }, 'cluster: files held in fewer zones than required');
      if (key !== this.placementKey) this.ctx.events.emit('placement-changed', {});
      this.placementKey = key;
    } catch (err) {
      this.ctx.log.warn({ err: (err as Error).message }, 'cluster: could not work out which zones hold the store; trying again later');
    }
  }

  /**
   * Members some member removed (`burrow nas remove`): out of the table, and their sync device
   * never linked with again. If this member is the one removed, it leaves: it runs no more
   * requests and links with none of the others (its files stay on its disk).
   */
  private async applyRemovals(engine: SyncEngine, removed: Removals, now: number): Promise<void> {
    if (removed.size === 0) return;
    const syncOf = this.ledger.syncDevices();
    const mine = removed.get(this.selfId);
    if (mine && !this.removedBy) {
      this.removedBy = mine.by;
      this.ctx.log.error({ by: mine.by }, 'cluster: this member was removed from the group; it runs no requests and syncs with no other member. Stop it (its files stay on its disk).');
    }
    for (const [id] of removed) {
      const device = syncOf.get(id);
      if (id === this.selfId) continue;
      this.members.remove(id); // the CLI that removed it dropped the row here already; the others drop it now
      // The links stay up a little while, so a running member can read its own removal from the
      // ledger and stop; it no longer counts as alive for requests meanwhile (liveMembers).
      const seen = this.removalSeenAt.get(id) ?? now;
      this.removalSeenAt.set(id, seen);
      if (now - seen < REMOVAL_GRACE_MS) continue;
      if (device && !engine.isBlocked(device)) {
        await engine.blockDevice(device);
        this.ctx.log.warn({ member: id, by: removed.get(id)!.by }, 'cluster: member removed from the group; no longer syncing with it');
      }
    }
    if (mine)
      for (const [id, device] of syncOf) if (id !== this.selfId && device && !engine.isBlocked(device)) await engine.blockDevice(device);
  }

  private removedBy: string | null = null;
  private removalSeenAt = new Map<string, number>();

  /** Members that describe themselves in the ledger, into the table (self excluded). */
  private importMembers(removed: Removals): MemberRow[] {
    for (const m of this.ledger.members()) {
      if (m.id === this.selfId || removed.has(m.id)) continue;
      this.members.upsert({ id: m.id, name: m.name, addresses: m.addresses, zone: m.zone, joinedAt: m.joinedAt });
      if (m.usage) this.members.setUsage(m.id, m.usage);
    }
    return this.members.list().filter((m) => !m.is_self);
  }

  /** Devices another member registered: the same name, limit and folder secret here. */
  private importDevices(): void {
    const { store, layout } = this.ctx;
    const secrets = new SecretsRepo(store.db);
    for (const d of this.ledger.devices()) {
      if (store.devices.get(d.name)) continue;
      store.tx(() => {
        store.devices.add(d.name, d.quotaBytes);
        secrets.ensure('device', d.name, d.secret);
      });
      anchoredAt(layout.root).mkdirp(path.relative(layout.root, layout.device(d.name)));
      this.ctx.log.info({ device: d.name }, 'cluster: device registered on another member');
    }
  }

  private exportDevices(): void {
    const known = new Set(this.ledger.devices().map((d) => d.name));
    const secrets = new SecretsRepo(this.ctx.store.db);
    for (const d of this.ctx.store.devices.list()) {
      if (known.has(d.name)) continue;
      const s = ensureFolderSecrets(secrets, 'device', d.name);
      this.ledger.writeDevice({ name: d.name, quotaBytes: d.quota_bytes, secret: s.readWrite, addedBy: this.selfId, at: d.created_at });
    }
  }

  /** Every member is a peer of every folder this NAS serves (the engine dials known addresses once each). */
  private peerEverything(engine: SyncEngine, others: MemberRow[]): void {
    for (const f of engine.listFolders())
      for (const m of others)
        for (const a of m.addresses) {
          const key = `${f.id}\0${a}`;
          if (this.peered.has(key)) continue;
          this.peered.add(key);
          engine.addPeer(f.id, a);
        }
  }

  /** Members with a live link on the ledger folder now; their availability stretch grows. */
  private liveMembers(engine: SyncEngine, others: MemberRow[], removed: Removals, now: number): Set<string> {
    const bySync = new Map<string, string>();
    for (const m of this.ledger.members()) if (m.syncDevice && m.id !== this.selfId && !removed.has(m.id)) bySync.set(m.syncDevice, m.id);
    const linked = new Set<string>();
    for (const p of engine.listPeers()) {
      const id = bySync.get(p.device);
      if (id) linked.add(id);
    }
    for (const m of others) if (linked.has(m.id)) this.members.markReachable(m.id, now, LIVENESS_DEAD_MS + 2 * TICK_MS);
    const live = new Set(linked);
    for (const m of this.members.list()) if (!m.is_self && m.last_reachable_at !== null && now - m.last_reachable_at < LIVE_GRACE_MS) live.add(m.id);
    this.members.markReachable(this.selfId, now, 60_000);
    this.live = live;
    return live;
  }

  private live = new Set<string>();
  private placementAt = 0;
  private placing = false;
  private placementKey = '';
  private placementSig = '';

  /**
   * A member that was cut off from everything must read what the others did meanwhile before it
   * runs anything: until its ledger is in sync with a member (or it has had links to devices but
   * to no member for ALONE_AFTER_MS), it runs no request.
   */
  private updateCatchUp(engine: SyncEngine, live: Set<string>, now: number): void {
    const anyLink = engine.listPeers().length > 0;
    if (!anyLink) {
      // Every link gone at once: this member is the one cut off (a member that keeps its devices
      // keeps links). Whatever reaches it first when the cable is back (often a device's
      // worklist), it must first read what the others ran meanwhile. At once, with no grace: a
      // link dies only after the transport's 6 s of silence, by which time the other members
      // have dropped this one too and run its requests; a 2 s grace here let a cut of 6-8.5 s
      // go unnoticed, and a request ran on both members (test/multinas/two-zones-netns.test.ts).
      if (this.members.list().some((m) => !m.is_self)) {
        if (!this.catchingUp) this.ctx.log.warn('cluster: cut off from every peer; will catch up with the other members before running requests');
        this.catchingUp = true;
        this.catchUpSince = null;
      }
      return;
    }
    if (!this.catchingUp) return;
    if (live.size > 0 && engine.progress(LEDGER_FOLDER).inSync) {
      this.catchingUp = false;
      this.catchUpSince = null;
      this.ctx.log.info('cluster: caught up with the other members');
      return;
    }
    this.catchUpSince ??= now;
    if (live.size === 0 && now - this.catchUpSince > ALONE_AFTER_MS) {
      this.catchingUp = false;
      this.ctx.log.warn('cluster: no other member reachable; running requests alone');
    }
  }

  /** What this member holds, its free space, and whether it still takes new files. */
  private async writeSelf(engine: SyncEngine, now: number): Promise<void> {
    const { ctx } = this;
    const c = ctx.store.entries.countByKind(FILES_AREA);
    const free = this.freeBytes();
    const full = free < ctx.config.cluster.minFreeMb * 1024 * 1024;
    if (full !== this.diskFull) {
      this.diskFull = full;
      await this.setStoreMode(engine, full ? 'send-only' : 'send-receive');
      if (full) ctx.log.error({ freeBytes: free, minFreeMb: ctx.config.cluster.minFreeMb }, 'cluster: the disk is nearly full; this member takes no new files from the others until space is freed (cluster.minFreeMb)');
      else ctx.log.info('cluster: space freed; taking new files from the others again');
    }
    const usage = { heldFiles: c.file?.n ?? 0, heldBytes: c.file?.bytes ?? 0, freeBytes: free, diskFull: full, at: now };
    const self = this.members.self()!;
    this.members.setUsage(self.id, usage);
    // The ledger copy changes only when what it says changes (or every 5 min): each rewrite is a
    // new version every member fetches, and a file rewritten while a peer fetches it fails that fetch.
    const said = this.saidUsage;
    const same = said && said.heldFiles === usage.heldFiles && said.heldBytes === usage.heldBytes && said.diskFull === usage.diskFull && now - said.at < 300_000 && said.syncDevice === engine.device;
    if (same) return;
    this.saidUsage = { ...usage, syncDevice: engine.device };
    this.ledger.writeMember({ id: self.id, name: self.name, addresses: self.addresses, zone: self.zone, joinedAt: self.joined_at, syncDevice: engine.device, usage });
  }

  private freeBytes(): number {
    try {
      const st = fs.statfsSync(this.ctx.layout.files);
      return st.bavail * st.bsize;
    } catch {
      return 0; // unknown
    }
  }

  /** A full disk: files/ stays published to the others but takes nothing from them (send-only). */
  private async setStoreMode(engine: SyncEngine, mode: 'send-receive' | 'send-only'): Promise<void> {
    if (mode === this.storeMode) return;
    this.storeMode = mode;
    const secret = this.members.secret('store')!;
    if (engine.listFolders().some((f) => f.id === STORE_FOLDER)) await engine.removeFolder(STORE_FOLDER);
    await engine.addFolder({ id: STORE_FOLDER, path: this.ctx.layout.files, secret, mode });
    for (const k of [...this.peered]) if (k.startsWith(`${STORE_FOLDER}\0`)) this.peered.delete(k);
  }

  get isDiskFull(): boolean {
    return this.diskFull;
  }

  /**
   * Which member runs a request: a result in the ledger settles it here too (its effects arrive
   * by sync); a live member's claim makes this one wait; otherwise the lowest-id member among
   * those alive now runs it, after writing its claim.
   */
  gate(row: { id: string; device: string }): GateDecision {
    if (this.removedBy) return { kind: 'wait', why: `this NAS was removed from its group (by member ${this.removedBy}); the other members run the requests` };
    if (!this.started) {
      this.waiting.add(row.id);
      return { kind: 'wait', why: 'the group sync is starting' };
    }
    const results = this.ledger.results(row.device, row.id);
    const won = winningResult(results);
    if (won) {
      if (won.member === this.selfId) return { kind: 'run' }; // ours, recorded before a crash: the journal knows the rest
      return { kind: 'settled', state: won.state, reason: won.reason, result: won.result };
    }
    const hold = (why: string): GateDecision => {
      this.waiting.add(row.id);
      return { kind: 'wait', why };
    };
    if (!this.started) return hold('the group sync is starting');
    if (this.catchingUp) return hold('catching up with the other members');
    const now = Date.now();
    const claims = this.ledger.claims(row.device, row.id);
    if (claims.some((c) => c.member === this.selfId)) return { kind: 'run' };
    const other = claims.find((c) => this.live.has(c.member) || now - c.at < CLAIM_TAKEOVER_MS);
    if (other) return hold(`member ${other.member} is running it`);
    const runner = [this.selfId, ...this.live].sort()[0];
    if (runner !== this.selfId) return hold(`member ${runner} runs it`);
    this.ledger.claim(row.device, row.id, this.selfId, now);
    return { kind: 'run' };
  }

  private readonly onRequestUpdated = (ev: { id: string; device: string }): void => {
    if (!this.started) return;
    const row = (this.ctx.services.get('requests') as { processor?: { requests: { get(id: string): RequestRow | undefined } } } | undefined)?.processor?.requests.get(ev.id);
    if (!row || row.source === 'auto' || (row.state !== 'done' && row.state !== 'failed')) return;
    if (!this.ledger.claims(row.device, row.id).some((c) => c.member === this.selfId)) return;
    if (this.ledger.results(row.device, row.id).some((r) => r.member === this.selfId)) return;
    this.ledger.writeResult(row.device, row.id, { member: this.selfId, state: row.state, reason: row.reason, result: row.result, at: Date.now() });
  };
}
