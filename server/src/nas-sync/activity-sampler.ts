import type { NasContext, NasService } from '../nas-context.js';
import type { NasFolderSync } from './service.js';
import { SecretsRepo } from '../store/secrets-repo.js';
import { AVAILABILITY_KEEP_DAYS } from '../services/availability.js';

/** Sync activity is kept this long (the overview draws the last 24 h). */
export const ACTIVITY_KEEP_MS = 48 * 3_600_000;
const MINUTE = 60_000;

/**
 * Each minute: the bytes each sync folder moved since the last sample go into sync_activity
 * (per minute), and each device that was reachable (its sync link up, or an agent report since
 * the last sample) extends its span in device_availability. Old rows are pruned.
 * BURROW_SAMPLE_MS shortens the period (tests).
 */
export class ActivitySampler implements NasService {
  readonly name = 'activity-sampler';
  private ctx: NasContext | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seen = new Map<string, { bytesIn: number; bytesOut: number }>();
  private lastSample = Date.now();
  readonly periodMs = Number(process.env.BURROW_SAMPLE_MS) > 0 ? Number(process.env.BURROW_SAMPLE_MS) : MINUTE;

  open(ctx: NasContext): void {
    this.ctx = ctx;
    this.timer = setInterval(() => {
      try {
        this.sample();
      } catch (err) {
        ctx.log.warn({ err: (err as Error).message }, 'activity sampler');
      }
    }, this.periodMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    try {
      this.sample(); // the last minutes' bytes too
    } catch {
      // the store may be closing; the bytes of this last moment are not worth failing a stop
    }
  }

  /** One sample (also called by tests and at close). */
  sample(now = Date.now()): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const engine = (ctx.services.get('folder-sync') as NasFolderSync | undefined)?.syncEngine ?? null;
    const minute = Math.floor(now / MINUTE) * MINUTE;
    const reports = new SecretsRepo(ctx.store.db);
    ctx.store.tx(() => {
      let moved = false;
      for (const f of engine?.listFolders() ?? []) {
        const t = engine!.traffic(f.id);
        const prev = this.seen.get(f.id) ?? { bytesIn: 0, bytesOut: 0 };
        // A counter that went down means the folder was removed and added again: count from 0.
        const dIn = t.bytesIn >= prev.bytesIn ? t.bytesIn - prev.bytesIn : t.bytesIn;
        const dOut = t.bytesOut >= prev.bytesOut ? t.bytesOut - prev.bytesOut : t.bytesOut;
        this.seen.set(f.id, t);
        if (dIn > 0 || dOut > 0) {
          ctx.store.syncActivity.add(minute, f.id, dIn, dOut);
          moved = true;
        }
      }
      const linked = new Set((engine?.listPeers() ?? []).filter((p) => p.folderId.startsWith('device:')).map((p) => p.folderId.slice('device:'.length)));
      for (const d of ctx.store.devices.list()) {
        const reportedAt = reports.report(d.name)?.reported_at ?? 0;
        if (linked.has(d.name) || reportedAt > this.lastSample) ctx.store.availability.seen(d.name, now, 3 * this.periodMs);
      }
      ctx.store.syncActivity.prune(now - ACTIVITY_KEEP_MS);
      ctx.store.availability.prune(now - AVAILABILITY_KEEP_DAYS * 86_400_000);
      if (moved) ctx.events.emit('sync-activity', { minute });
    });
    this.lastSample = now;
  }
}
