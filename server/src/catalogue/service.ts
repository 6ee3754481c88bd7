import type { NasContext, NasService, RequestStatusSource } from '../nas-context.js';
import type { IndexChangedEvent } from '../index/indexer.js';
import { Publisher, type PublishStats } from './publish.js';

/**
 * The catalogue publisher as a NAS service ('catalogue'): publishes at open, then once per
 * burst of index changes, request updates and link changes (coalesced over
 * catalogue.debounceMs). Publishes never overlap; a change during one schedules one more.
 */
export class CatalogueService implements NasService {
  readonly name = 'catalogue';
  private ctx: NasContext | null = null;
  private publisher: Publisher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PublishStats> | null = null;
  private again = false;
  private closed = false;
  lastStats: PublishStats | null = null;
  /** How many publishes ran (tests check that bursts coalesce). */
  publishCount = 0;
  private readonly onChange = (ev?: IndexChangedEvent) => {
    if (ev && Array.isArray(ev.changes) && ev.changes.length === 0) return;
    this.schedule();
  };
  private readonly onAny = () => this.schedule();

  async open(ctx: NasContext): Promise<void> {
    this.ctx = ctx;
    this.publisher = new Publisher(ctx.layout);
    ctx.indexer.on('changed', this.onChange);
    ctx.events.on('request-updated', this.onAny);
    ctx.events.on('links-changed', this.onAny);
    // Requests are registered after us; the first publish runs once every service is open.
    setImmediate(() => this.schedule(0));
  }

  /** Publish now (after any publish already running) and return what it wrote. */
  async publishNow(): Promise<PublishStats> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.running) await this.running.catch(() => undefined);
    return this.run();
  }

  /**
   * The wait before a publish: the configured debounce, but never shorter than the last publish
   * took, so a store that changes without pause (a big sync) keeps the publisher at most half busy.
   */
  private nextDelay(): number {
    return Math.max(this.ctx?.config.catalogue.debounceMs ?? 300, this.lastStats?.elapsedMs ?? 0);
  }

  private schedule(delay = this.nextDelay()): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.run().catch((err) => this.ctx?.log.error({ err }, 'catalogue publish failed; the next change retries'));
    }, delay);
  }

  private run(): Promise<PublishStats> {
    // Deferred by one tick so `running` is set before the (synchronous) publish starts.
    const p = Promise.resolve()
      .then(() => this.publishOnce())
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      });
    this.running = p;
    return p;
  }

  private publishOnce(): PublishStats {
    const ctx = this.ctx!;
    const requests = ctx.services.get('requests') as Partial<RequestStatusSource> | undefined;
    const stats = this.publisher!.publish({
      store: ctx.store,
      trashDays: ctx.config.trash.retentionDays,
      requests: typeof requests?.recentForDevice === 'function' ? (requests as RequestStatusSource) : undefined,
    });
    this.lastStats = stats;
    this.publishCount++;
    ctx.log.debug({ ...stats, written: stats.written.length }, 'catalogue published');
    return stats;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.ctx?.indexer.off('changed', this.onChange);
    this.ctx?.events.off('request-updated', this.onAny);
    this.ctx?.events.off('links-changed', this.onAny);
    await this.running?.catch(() => undefined);
  }
}
