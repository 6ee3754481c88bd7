import type { NasContext, NasService, StorageBalancer } from '../nas-context.js';
import type { IndexChangedEvent } from '../index/indexer.js';
import { acquireJobLockWaiting } from './job-lock.js';
import { makeRoom, runBalance, type BalanceReport, type RoomResult } from './balance.js';

const DEVICE_PREFIX = 'device:';

/**
 * The storage balancer inside the NAS (service name 'balancer'). The get action calls
 * makeRoom() before it links; calls are serialised here and share the 'balance' job lock with
 * the nightly run and `burrow balance`. It also records use: a link appearing in devices/<d>/
 * counts as "got", a link changing as "modified". With jobs.balanceAfterGet, a device whose
 * links changed is re-balanced shortly after (debounced).
 */
export class BalancerService implements NasService, StorageBalancer {
  readonly name = 'balancer';
  private ctx: NasContext | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly pendingDevices = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly onChanged = (e: IndexChangedEvent) => this.recordUse(e);
  private readonly onLinks = (e: { device?: string; by?: string }) => {
    if (e.device && e.by !== this.name && this.ctx?.config.jobs.balanceAfterGet) this.scheduleBalance(e.device);
  };

  /** Debounce before re-balancing after links changed (ms). */
  constructor(private readonly debounceMs = 1000) {}

  open(ctx: NasContext): void {
    this.ctx = ctx;
    ctx.indexer.on('changed', this.onChanged);
    ctx.events.on('links-changed', this.onLinks);
  }

  makeRoom(device: string, bytes: number, keep: string[]): Promise<{ ok: boolean; freedBytes: number; reason?: string }> {
    return this.serial(async () => {
      const r = await this.locked(() => makeRoom(this.ctx!.store, this.ctx!.layout, device, bytes, keep, { refresh: (p) => this.ctx!.indexer.refresh(p) }));
      this.announce(r);
      return { ok: r.ok, freedBytes: r.freedBytes, ...(r.reason ? { reason: r.reason } : {}) };
    });
  }

  /** The nightly run (and balance-after-get): every device, or one. */
  balance(opts: { device?: string; dryRun?: boolean } = {}): Promise<BalanceReport> {
    return this.serial(async () => {
      const r = await this.locked(() => runBalance(this.ctx!.store, this.ctx!.layout, { ...opts, refresh: (p) => this.ctx!.indexer.refresh(p) }));
      for (const d of r.devices) this.announce(d);
      return r;
    });
  }

  private announce(r: RoomResult): void {
    if (r.evicted.length > 0 && !r.dryRun) {
      this.ctx!.log.info({ device: r.device, evicted: r.evicted.length, freed: r.freedBytes }, 'balancer evicted links');
      this.ctx!.events.emit('links-changed', { device: r.device, by: this.name });
    } else if (!r.ok) {
      this.ctx!.log.warn({ device: r.device, reason: r.reason }, 'balancer could not make room');
    }
  }

  private async locked<T>(fn: () => T): Promise<T> {
    const lock = await acquireJobLockWaiting(this.ctx!.store, 'balance', 60_000);
    try {
      return fn();
    } finally {
      lock.release();
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private scheduleBalance(device: string): void {
    this.pendingDevices.add(device);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const devices = [...this.pendingDevices];
      this.pendingDevices.clear();
      for (const d of devices) {
        if (!this.ctx?.store.devices.get(d)) continue;
        this.balance({ device: d }).catch((err) => this.ctx?.log.error({ err, device: d }, 'balance after get failed'));
      }
    }, this.debounceMs);
    this.timer.unref();
  }

  private recordUse(e: IndexChangedEvent): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const now = Date.now();
    try {
      ctx.store.tx(() => {
        for (const c of e.changes) {
          if (!c.area.startsWith(DEVICE_PREFIX) || c.path === '') continue;
          const device = c.area.slice(DEVICE_PREFIX.length);
          const entry = ctx.store.entries.get(c.area, c.path);
          if (!entry) ctx.store.usage.forget(device, c.path);
          else if (entry.kind === 'file') ctx.store.usage.touch(device, c.path, now, ctx.store.usage.get(device, c.path) ? 'modified' : 'got');
        }
      });
    } catch (err) {
      ctx.log.warn({ err }, 'could not record device file use');
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.ctx?.indexer.off('changed', this.onChanged);
    this.ctx?.events.off('links-changed', this.onLinks);
    this.ctx = null;
  }
}
