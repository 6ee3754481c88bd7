import type { NasContext, NasService, RequestStatusSource } from '../nas-context.js';
import type { IndexChangedEvent } from '../index/indexer.js';
import { Publisher, type PublishStats } from './publish.js';
import { WorkerPublisher } from './worker-publisher.js';
import { deviceRequestRows } from './build.js';

/**
 * The catalogue publisher as a NAS service ('catalogue'): publishes at open, then once per
 * burst of index changes, request updates and link changes (coalesced over
 * catalogue.debounceMs). Publishes never overlap; a change during one schedules one more.
 * The publish itself runs on a worker thread (a million-file catalogue is seconds of CPU that
 * would otherwise stall requests, HTTP and sync); only an in-memory store publishes in-process.
 */
export class CatalogueService implements NasService {
  readonly name = 'catalogue';
  private ctx: NasContext | null = null;
  private publisher: Publisher | null = null;
  private worker: WorkerPublisher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PublishStats> | null = null;
  private again = false;
  /** When the first change arrived during the running publish: its wait counts toward the next delay. */
  private againSince = 0;
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
    if (ctx.store.db.memory) this.publisher = new Publisher(ctx.layout);
    else this.worker = new WorkerPublisher();
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
   * The wait before a publish, counted from the first change it will show: the configured
   * debounce, but never shorter than the last publish took, so a big catalogue's publishes
   * coalesce more changes each. Publishes run on their own thread, so a store that changes without
   * pause (a big sync) keeps at most one core busy with them and never blocks the event loop.
   */
  private nextDelay(): number {
    return Math.max(this.ctx?.config.catalogue.debounceMs ?? 300, this.lastStats?.elapsedMs ?? 0);
  }

  private schedule(delay = this.nextDelay()): void {
    if (this.closed) return;
    if (this.running) {
      if (!this.again) this.againSince = performance.now();
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
          // The publish runs off the event loop, so changes keep arriving during it; they have
          // already waited while it ran, and waiting the full delay again would double their latency.
          this.schedule(Math.max(0, this.nextDelay() - (performance.now() - this.againSince)));
        }
      });
    this.running = p;
    return p;
  }

  /** The publish worker's thread id, or null when publishing in-process (tests). */
  get workerThreadId(): number | null {
    return this.worker?.threadId ?? null;
  }

  private async publishOnce(): Promise<PublishStats> {
    const ctx = this.ctx!;
    const service = ctx.services.get('requests') as Partial<RequestStatusSource> | undefined;
    const requests = typeof service?.recentForDevice === 'function' ? (service as RequestStatusSource) : undefined;
    const trashDays = ctx.config.trash.retentionDays;
    const torrents = ctx.config.torrent.enabled;
    let stats: PublishStats;
    if (this.worker) {
      // Device names and request rows are a few small queries: read here, sent as data.
      const devices = ctx.store.devices.list().map((d) => d.name);
      const requestRows = devices.map((d) => [d, deviceRequestRows(requests, d)] as [string, ReturnType<typeof deviceRequestRows>]);
      stats = await this.worker.publish({ root: ctx.layout.root, dbFile: ctx.store.db.name, devices, requestRows, trashDays, torrents });
    } else {
      stats = this.publisher!.publish({ store: ctx.store, trashDays, torrents, requests });
    }
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
    await this.worker?.close();
  }
}
