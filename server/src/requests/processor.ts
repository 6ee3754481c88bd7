import path from 'node:path';
import type { Stats } from 'node:fs';
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { RootLayout } from '../root/layout.js';
import type { BurrowConfig } from '../config/schema.js';
import type { Store } from '../store/index.js';
import { RequestsRepo, type RequestRow } from '../store/requests-repo.js';
import { JournalRepo } from '../store/journal-repo.js';
import { SubscriptionsRepo } from '../store/subscriptions-repo.js';
import { SharesRepo } from '../store/shares-repo.js';
import { TrashRepo } from '../store/trash-repo.js';
import type { FolderSync, RequestGate, RequestStatus, StorageBalancer } from '../nas-context.js';
import type { ActionEnv, Plan } from '../actions/types.js';
import { ACTIONS, assertRegistryComplete } from '../actions/registry.js';
import { LinkJournal, type Outcome } from '../journal/journal.js';
import { readShape, validateRequest, reasonOf } from './validate.js';
import { BurrowError } from '../errors.js';

/** The request queue runs at most this long before it lets the event loop run. */
const PUMP_SLICE_MS = 5;
const PUMP_GAP_MS = 2;

export type RequestSource = 'worklist' | 'http' | 'cli' | 'auto';

export interface ProcessorDeps {
  layout: RootLayout;
  config: BurrowConfig;
  store: Store;
  log: Logger;
  services: Map<string, unknown>;
  events: EventEmitter;
  /**
   * Re-read these absolute paths into the index (the indexer's refresh). `ownLinks` are the
   * device paths the action itself just linked, which need no adoption check.
   */
  refresh(absPaths: string[], ownLinks: ReadonlySet<string>, known?: ReadonlyMap<string, Stats>): void;
}

export interface Submitted {
  status: RequestStatus;
  /** false when the id was known already: the request is not run again. */
  fresh: boolean;
  /** Resolves with the final status (done or failed), or the waiting one of a request its action holds open (a move). */
  done: Promise<RequestStatus>;
}

export function toStatus(r: RequestRow): RequestStatus {
  return {
    id: r.id,
    device: r.device,
    action: r.action,
    path: r.path,
    state: r.state,
    ...(r.reason !== null ? { reason: r.reason } : {}),
    ...(r.result !== null ? { result: JSON.parse(r.result) as unknown } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * The one request processor: the worklists, POST /api/requests and `burrow request` all feed
 * `submit`. A request is recorded under its client-made id (a repeated id runs once), then
 * runs alone in a queue: validate → the action's start (plan, no changes) → the journal runs
 * the plan → index refresh → events. Results stay in SQLite for GET /api/requests/:id and the
 * catalogue.
 */
export class RequestProcessor {
  readonly requests: RequestsRepo;
  readonly journalRepo: JournalRepo;
  readonly subscriptions: SubscriptionsRepo;
  readonly shares: SharesRepo;
  readonly trash: TrashRepo;
  private readonly journal: LinkJournal;
  /**
   * The journal's link steps leave each new link's lstat here; the refresh after the request
   * records those links from it instead of stat-ing them again (a 10,000-file get made 10,000
   * more lstat calls). Requests run one at a time, so it is emptied after each one.
   */
  private readonly linkedStats = new Map<string, Stats>();
  /**
   * Request ids waiting to run, run one at a time by `pump`. A plain array, not a promise chain:
   * V8 walks a pending chain to build an error's async stack, so 100,000 queued requests made
   * every thrown error cost up to a third of a second.
   */
  private readonly queue: string[] = [];
  private head = 0;
  private pumping: Promise<void> | null = null;
  private readonly waiters = new Map<string, Array<(s: RequestStatus) => void>>();

  constructor(private readonly d: ProcessorDeps) {
    const db = d.store.db;
    this.requests = new RequestsRepo(db);
    this.journalRepo = new JournalRepo(db);
    this.subscriptions = new SubscriptionsRepo(db);
    this.shares = new SharesRepo(db);
    this.trash = new TrashRepo(db);
    const services = d.services;
    this.journal = new LinkJournal({
      store: d.store,
      journal: this.journalRepo,
      requests: this.requests,
      repos: { subscriptions: this.subscriptions, shares: this.shares, trash: this.trash, moveWaits: d.store.moveWaits, shareAdoptions: d.store.shareAdoptions, requests: this.requests, devices: d.store.devices },
      env: {
        root: d.layout.root,
        linked: this.linkedStats,
        get folderSync() {
          return services.get('folder-sync') as FolderSync | undefined;
        },
      },
      log: d.log,
    });
  }

  /** Refuse to start without an action per request type; then finish what a crash interrupted. */
  async open(): Promise<void> {
    assertRegistryComplete();
    const recovered = await this.journal.recover((row, plan) => {
      const action = ACTIONS.get(row.action);
      const req = this.requests.get(row.request_id);
      return () => (action?.cleanup && req ? action.cleanup({ ...this.validRequestOf(req), abs: '' }, plan, this.env()) : {});
    });
    for (const r of recovered) this.afterRun(r.requestId, r.outcome, this.planOf(r.requestId));
    for (const row of this.requests.unfinished()) {
      if (row.state === 'running') {
        const j = this.journalRepo.forRequest(row.id);
        if (j && (j.state === 'forward' || j.state === 'rollback')) continue; // its recovery failed: kept for next start
        if (j?.state === 'done') continue; // held open by its action (a move waiting for its targets)
        this.requests.setState(row.id, 'pending', null, null);
      }
      this.enqueue(row.id);
    }
  }

  /** Record a request and queue it. A bad shape is recorded as failed when it carries an id (or a fallbackId). */
  submit(raw: unknown, source: RequestSource, opts: { fallbackId?: string; device?: string; problem?: string } = {}): Submitted {
    const shape = readShape(raw);
    const { id, req } = shape;
    const shapeProblem = opts.problem ?? shape.problem;
    const useId = id ?? opts.fallbackId;
    if (!useId) throw new BurrowError('BAD_REQUEST', shapeProblem ?? 'The request has no valid id.', 'Send {"id", "device", "action", "path", "args", "confirm"}; the id is 8-128 letters, digits, "-" or "_".');
    const existing = this.requests.get(useId);
    if (existing) return { status: toStatus(existing), fresh: false, done: this.waitFor(useId) };
    let problem = shapeProblem;
    // A worklist speaks only for its own device.
    if (!problem && opts.device !== undefined && req.device !== opts.device)
      problem = `This worklist belongs to ${opts.device}, so it cannot make requests for ${JSON.stringify(req.device)}.`;
    const now = Date.now();
    const row: RequestRow = {
      id: useId,
      device: opts.device ?? (req.device || '?'),
      action: req.action,
      path: req.path,
      args: JSON.stringify(req.args),
      confirm: req.confirm ? 1 : 0,
      source,
      state: problem ? 'failed' : 'pending',
      reason: problem,
      result: null,
      created_at: now,
      updated_at: now,
    };
    this.requests.insert(row);
    this.d.events.emit('request-updated', { id: row.id, device: row.device });
    const done = this.waitFor(useId);
    if (!problem) this.enqueue(useId);
    return { status: toStatus(row), fresh: true, done };
  }

  status(id: string): RequestStatus | undefined {
    const r = this.requests.get(id);
    return r ? toStatus(r) : undefined;
  }

  recentForDevice(device: string, limit: number): RequestStatus[] {
    return this.requests.recentForDevice(device, limit).map(toStatus);
  }

  /** Resolves when every queued request has run. */
  async idle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  waitFor(id: string): Promise<RequestStatus> {
    const r = this.requests.get(id);
    // A request held open by its action (a move waiting for its targets) answers with its state now.
    if (r && (r.state === 'done' || r.state === 'failed' || this.heldOpen(r))) return Promise.resolve(toStatus(r));
    return new Promise((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(resolve);
      this.waiters.set(id, list);
    });
  }

  /** Running, with its plan done: the action keeps it open until something finishes it. */
  heldOpen(r: RequestRow): boolean {
    return r.state === 'running' && this.journalRepo.forRequest(r.id)?.state === 'done';
  }

  /** End a move that waits for its targets without removing anything from its source. */
  failHeldMove(requestId: string, reason: string): void {
    this.d.store.tx(() => {
      if (this.d.store.moveWaits.get(requestId)?.state !== 'waiting') return;
      this.d.store.moveWaits.finish(requestId, 'failed', reason);
      const r = this.requests.get(requestId);
      if (r) this.requests.setState(requestId, 'failed', reason, r.result);
    });
    const row = this.requests.get(requestId);
    if (row) this.d.events.emit('request-updated', { id: requestId, device: row.device });
    this.resolveWaiters(requestId);
  }

  env(): ActionEnv {
    const d = this.d;
    return {
      layout: d.layout,
      config: d.config,
      store: d.store,
      subscriptions: this.subscriptions,
      shares: this.shares,
      trash: this.trash,
      log: d.log,
      balancer: d.services.get('balancer') as StorageBalancer | undefined,
      folderSync: d.services.get('folder-sync') as FolderSync | undefined,
      now: () => new Date(),
    };
  }

  private enqueue(id: string): void {
    this.queue.push(id);
    if (!this.pumping) this.pumping = this.pump();
  }

  private async pump(): Promise<void> {
    let since = -Infinity;
    try {
      while (this.head < this.queue.length) {
        const id = this.queue[this.head++]!;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        // Let the event loop run, and the process idle a moment, every few ms: runs whose steps
        // finish synchronously would otherwise follow each other in microtasks and starve HTTP
        // and sync meanwhile (and on a busy machine a process that never sleeps answers late).
        if (performance.now() - since > PUMP_SLICE_MS) {
          await new Promise<void>((resolve) => setTimeout(resolve, PUMP_GAP_MS));
          since = performance.now();
        }
        try {
          await this.run(id);
        } catch (err) {
          this.d.log.error({ err, request: id }, 'request crashed');
          this.finishFailed(id, `Internal error: ${(err as Error).message}. See the NAS log.`);
        }
      }
    } finally {
      this.pumping = null;
    }
  }

  private validRequestOf(row: RequestRow) {
    return { id: row.id, device: row.device, action: row.action, path: row.path, args: JSON.parse(row.args) as Record<string, unknown>, confirm: row.confirm === 1, source: row.source };
  }

  private planOf(requestId: string): Plan | undefined {
    const j = this.journalRepo.forRequest(requestId);
    return j ? (JSON.parse(j.plan) as Plan) : undefined;
  }

  /** Queue a pending request again (the cluster gate held it back until another member's word arrived). */
  requeue(id: string): void {
    if (this.requests.get(id)?.state === 'pending') this.enqueue(id);
  }

  private async run(id: string): Promise<void> {
    const row = this.requests.get(id);
    if (!row || row.state !== 'pending') return;
    // In a group of several NAS, a request a device or the owner made runs on one member only;
    // the others take its result from the ledger (nas-cluster/service.ts). Automatic requests
    // (adopt, auto-get) keep each member's own links and run on every member.
    const gate = this.d.services.get('cluster') as RequestGate | undefined;
    if (gate?.active && row.source !== 'auto') {
      const g = gate.gate(row);
      if (g.kind === 'wait') return;
      if (g.kind === 'settled') {
        this.requests.setState(id, g.state, g.reason, g.result);
        this.d.events.emit('request-updated', { id, device: row.device });
        this.resolveWaiters(id);
        return;
      }
    }
    const env = this.env();
    const inc = this.validRequestOf(row);
    let plan: Plan;
    let action;
    let req;
    try {
      ({ action, req } = validateRequest(inc, env, { allowInternal: row.source === 'auto' }));
      req.source = row.source;
      plan = await action.start(req, env);
    } catch (err) {
      if (!(err instanceof BurrowError)) this.d.log.error({ err, request: id }, 'action start failed');
      this.finishFailed(id, reasonOf(err));
      return;
    }
    const a = action;
    const r = req;
    const outcome = await this.journal.execute(id, action.name, plan, () => a.cleanup?.(r, plan, env) ?? {}, () =>
      this.d.events.emit('request-updated', { id, device: row.device }),
    );
    this.afterRun(id, outcome, plan);
  }

  private afterRun(id: string, outcome: Outcome, plan: Plan | undefined): void {
    const row = this.requests.get(id);
    if (!row) return;
    if (plan && plan.refresh.length > 0) {
      try {
        const own = new Set<string>();
        const known = new Map<string, Stats>();
        for (const step of plan.steps)
          for (const op of step) {
            if (op.op !== 'link' && op.op !== 'replace') continue;
            const st = op.op === 'link' ? this.linkedStats.get(op.to) : undefined;
            if (st) this.linkedStats.delete(op.to);
            if (outcome.state !== 'done' || !op.to.startsWith('devices/')) continue;
            const abs = path.join(this.d.layout.root, op.to);
            own.add(abs);
            if (st) known.set(abs, st);
          }
        this.d.refresh(
          plan.refresh.map((p) => path.join(this.d.layout.root, p)),
          own,
          known,
        );
      } catch (err) {
        this.d.log.warn({ err, request: id }, 'index refresh after a request failed; the next reconcile repairs it');
      }
    }
    this.linkedStats.clear();
    if (outcome.state === 'done' && plan) {
      for (const device of plan.touched.devices) this.d.events.emit('links-changed', { device });
      for (const share of plan.touched.shares) this.d.events.emit('links-changed', { share });
    }
    this.d.events.emit('request-updated', { id, device: row.device });
    this.resolveWaiters(id);
    // An action that finished another request (move-finish ends its move) tells that one's waiters too.
    if (outcome.state === 'done' && plan)
      for (const c of plan.commit) {
        if (c.db !== 'move-finish') continue;
        const other = this.requests.get(c.requestId);
        if (other) this.d.events.emit('request-updated', { id: other.id, device: other.device });
        this.resolveWaiters(c.requestId);
      }
  }

  private finishFailed(id: string, reason: string): void {
    const row = this.requests.get(id);
    if (!row) return;
    if (row.state !== 'done' && row.state !== 'failed') this.requests.setState(id, 'failed', reason, null);
    this.d.events.emit('request-updated', { id, device: row.device });
    this.resolveWaiters(id);
  }

  private resolveWaiters(id: string): void {
    const list = this.waiters.get(id);
    if (!list) return;
    this.waiters.delete(id);
    const s = this.status(id);
    if (s) for (const w of list) w(s);
  }
}
