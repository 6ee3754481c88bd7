import type { NasContext, NasService, RequestStatusSource } from '../nas-context.js';
import type { IndexChangedEvent } from '../index/indexer.js';
import { Publisher, type PublishStats } from './publish.js';
import { WorkerPublisher } from './worker-publisher.js';
import { deviceRequestRows } from './build.js';
import { MAX_INCREMENTAL_CHANGES } from './incremental.js';
import type { ScanChange } from '../index/scanner.js';

/** The wait before a publish after a quiet spell: enough to take a click's few events together. */
const QUICK_MS = 20;

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
  private closed = false;
  /** When the last publish started (performance.now()); -Infinity before the first. */
  private lastStart = -Infinity;
  lastStats: PublishStats | null = null;
  private readonly lastTook = { full: 0, incremental: 0 };
  /** How many publishes ran (tests check that bursts coalesce). */
  publishCount = 0;
  /** Index changes not yet handed to a publish; the next publish re-reads only these paths. */
  private changes: ScanChange[] = [];
  /** The next publish must build in full: at start, after a failure, or when changes were not all seen. */
  private fullNext = true;
  private readonly onChange = (ev?: IndexChangedEvent) => {
    if (ev && Array.isArray(ev.changes) && ev.changes.length === 0) return;
    if (!ev || !Array.isArray(ev.changes)) this.fullNext = true;
    else if (!this.fullNext) {
      for (const c of ev.changes) this.changes.push({ area: c.area, path: c.path });
      // So many changes are cheaper to publish in full than to track.
      if (this.changes.length > MAX_INCREMENTAL_CHANGES) this.fullNext = true;
    }
    if (this.fullNext) this.changes = [];
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
    ctx.events.on('placement-changed', this.onAny);
    // Requests are registered after us; the first publish runs once every service is open.
    setImmediate(() => this.schedule(0));
  }

  /** Publish now (after any publish already running), in full, and return what it wrote. */
  async publishNow(): Promise<PublishStats> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.running) await this.running.catch(() => undefined);
    this.fullNext = true;
    return this.run();
  }

  /**
   * The least time between the starts of two publishes: the configured debounce, but never
   * shorter than the last publish of the kind that comes next took (a full build after a flood of
   * changes is seconds at 1M files, an incremental one milliseconds), so publishes keep at most
   * half a core busy while the store changes without pause, and never block the event loop.
   */
  private nextDelay(): number {
    return Math.max(this.ctx?.config.catalogue.debounceMs ?? 100, this.fullNext ? this.lastTook.full : this.lastTook.incremental);
  }

  private schedule(delay?: number): void {
    if (this.closed) return;
    // Publishes start at most once per delay. After a quiet spell one starts almost at once (a
    // click's request, link and index change arrive within milliseconds of each other); in a
    // burst the next waits until a delay has passed since the last one started.
    delay ??= Math.max(Math.min(QUICK_MS, this.nextDelay()), this.lastStart + this.nextDelay() - performance.now());
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
          // The publish runs off the event loop, so changes keep arriving during it; they have
          // already waited while it ran, and waiting the full delay again would double their latency.
          this.schedule(Math.max(0, this.lastStart + this.nextDelay() - performance.now()));
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
    this.lastStart = performance.now();
    // The changes this publish covers: any arriving from now on are the next one's. Handed over
    // before the publish reads the index, so a change it also sees is merely read twice.
    const changes = this.fullNext ? null : this.changes;
    this.changes = [];
    this.fullNext = false;
    let stats: PublishStats;
    try {
      if (this.worker) {
        // Device names and request rows are a few small queries: read here, sent as data.
        const devices = ctx.store.devices.list().map((d) => d.name);
        const requestRows = devices.map((d) => [d, deviceRequestRows(requests, d)] as [string, ReturnType<typeof deviceRequestRows>]);
        stats = await this.worker.publish({ root: ctx.layout.root, dbFile: ctx.store.db.name, devices, requestRows, trashDays, torrents, changes });
      } else {
        stats = this.publisher!.publish({ store: ctx.store, trashDays, torrents, requests, changes });
      }
    } catch (err) {
      // Whatever the worker kept may not match the disk or the index any more.
      this.fullNext = true;
      this.changes = [];
      throw err;
    }
    this.lastStats = stats;
    this.lastTook[stats.mode] = stats.elapsedMs;
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
    this.ctx?.events.off('placement-changed', this.onAny);
    await this.running?.catch(() => undefined);
    await this.worker?.close();
  }
}
