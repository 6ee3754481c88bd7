import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { NasContext, NasService, RequestStatus, RequestStatusSource } from '../nas-context.js';
import type { IndexChangedEvent } from '../index/indexer.js';
import { FILES_AREA, shareArea } from '../store/entries-repo.js';
import { RequestProcessor, type Submitted, type RequestSource } from './processor.js';
import { WorklistReader, WORKLIST_DIR, lineFallbackId, type WorklistItem } from './worklist.js';
import { MAX_LINE_BYTES, NAS_REQUESTER } from './validate.js';
import { emptyTrash } from '../actions/trash.js';

/** How often worklists are checked besides fs.watch (which can miss events on some filesystems). */
const POLL_MS = 500;
/** How often the trash is checked for items past trash.retentionDays. */
const TRASH_SWEEP_MS = 60 * 60 * 1000;
/**
 * Worklists are read in batches that each take at most this long, then the event loop runs
 * (HTTP, sync, timers) before the next batch: a flooded worklist never freezes the NAS.
 */
const BATCH_MS = 5;
const BATCH_LINES = 500;
const ROUND_GAP_MS = 5;
/** Each device may send this many lines per second (with a burst of WORKLIST_BURST). */
export const WORKLIST_LINES_PER_SECOND = 10_000;
const WORKLIST_BURST = 2000;

/**
 * The 'requests' NAS service: the request processor, the worklist watcher, and the automatic
 * requests the index triggers (subscribed folders get new store files; a device's new or changed
 * files are adopted; a device's own deletion inside a subscribed folder is remembered).
 */
export class RequestsService implements NasService, RequestStatusSource {
  readonly name = 'requests';
  processor!: RequestProcessor;
  private ctx!: NasContext;
  private reader!: WorklistReader;
  private timer: NodeJS.Timeout | null = null;
  private trashTimer: NodeJS.Timeout | null = null;
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private readonly seen = new Map<string, string>();
  /** Devices whose worklist may have unread lines, in the order they are served. */
  private readonly due = new Set<string>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private draining = false;
  private drainTimer: NodeJS.Timeout | null = null;
  private readonly onChanged = (e: IndexChangedEvent) => this.indexChanged(e);
  private closed = false;
  /** While the processor refreshes the index after its own action: the links it made itself. */
  private ownLinks: ReadonlySet<string> | null = null;

  async open(ctx: NasContext): Promise<void> {
    this.ctx = ctx;
    this.processor = new RequestProcessor({
      layout: ctx.layout,
      config: ctx.config,
      store: ctx.store,
      log: ctx.log.child({ part: 'requests' }),
      services: ctx.services,
      events: ctx.events,
      refresh: (p, own, known) => {
        this.ownLinks = own;
        try {
          ctx.indexer.refresh(p, known);
        } finally {
          this.ownLinks = null;
        }
      },
    });
    await this.processor.open();
    this.reader = new WorklistReader(ctx.layout, ctx.store, this.processor.requests);
    ctx.indexer.on('changed', this.onChanged);
    this.adoptWhatNobodyHeard();
    this.pollAll();
    this.timer = setInterval(() => this.pollAll(), POLL_MS);
    this.timer.unref();
    this.sweepTrash();
    this.trashTimer = setInterval(() => this.sweepTrash(), TRASH_SWEEP_MS);
    this.trashTimer.unref();
  }

  /**
   * The index's change events before this service listened went to nobody: the reconcile at
   * start (a device's file written just before a crash) and what the sync engine, which opens
   * first, received meanwhile. The index holds those files, so a later event never comes: adopt
   * them now (soak seed 505: a device's new file stayed out of the store for good). The same for
   * a friend's files in a shared folder.
   */
  private adoptWhatNobodyHeard(): void {
    for (const d of this.ctx.store.devices.list()) {
      try {
        const paths = this.ctx.store.entries.unadoptedDeviceFiles(d.name);
        if (paths.length > 0) this.deviceChanged(d.name, paths);
      } catch (err) {
        this.ctx.log.error({ err, device: d.name }, 'could not look for unadopted files of a device');
      }
    }
    // A friend's files in a shared folder: adopt-share takes what is new and is a no-op otherwise
    // (its id covers every file's state, so an unchanged folder is not looked at twice).
    for (const sh of this.processor.shares.list({ active: true })) {
      if (sh.limit_mb === null) continue;
      try {
        this.shareChanged(sh.id, this.ctx.store.entries.filePaths(shareArea(sh.id)));
      } catch (err) {
        this.ctx.log.error({ err, share: sh.id }, 'could not look for unadopted files of a shared folder');
      }
    }
  }

  /** Empty what has been in the trash longer than trash.retentionDays. */
  sweepTrash(now = new Date()): string[] {
    try {
      const gone = emptyTrash(this.processor.trash, this.ctx.layout, { retentionDays: this.ctx.config.trash.retentionDays, now });
      if (gone.length > 0) this.ctx.log.info({ items: gone }, 'emptied trash items past their retention time');
      return gone;
    } catch (err) {
      this.ctx.log.warn({ err }, 'could not empty the trash');
      return [];
    }
  }

  submit(raw: unknown, source: RequestSource): Submitted {
    return this.processor.submit(raw, source);
  }

  status(id: string): RequestStatus | undefined {
    return this.processor.status(id);
  }

  recentForDevice(device: string, limit: number): RequestStatus[] {
    return this.processor.recentForDevice(device, limit);
  }

  /** Read every device's worklist now (tests and the poll timer). */
  pollAll(): void {
    if (this.closed) return;
    for (const d of this.ctx.store.devices.list()) {
      this.watch(d.name);
      this.pollDevice(d.name, false);
    }
  }

  pollDevice(device: string, force = true): void {
    if (this.closed) return;
    const file = path.join(this.ctx.layout.device(device), WORKLIST_DIR, 'worklist.jsonl');
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    const key = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : '';
    if (!force && this.seen.get(device) === key && !this.due.has(device)) return;
    this.seen.set(device, key);
    this.due.add(device);
    this.drain();
  }

  /**
   * One round over the devices with unread lines: each gets a batch (bounded in lines, time
   * and by its own rate); the next round comes after a short sleep or, when every such device
   * has used its rate, once the first one has earned lines again.
   */
  private drain(): void {
    if (this.draining || this.closed) return;
    if (this.drainTimer) {
      clearTimeout(this.drainTimer);
      this.drainTimer = null;
    }
    this.draining = true;
    let waitMs = Infinity;
    try {
      const roundEnd = performance.now() + BATCH_MS;
      const devices = [...this.due];
      for (const [i, device] of devices.entries()) {
        const allowed = Math.floor(this.tokens(device));
        if (allowed < 1) {
          waitMs = Math.min(waitMs, Math.ceil(1000 / WORKLIST_LINES_PER_SECOND));
          continue;
        }
        // Share the round's time fairly among the devices still to be served in it.
        const untilMs = performance.now() + Math.max(1, (roundEnd - performance.now()) / (devices.length - i));
        let r;
        try {
          r = this.reader.read(device, (item) => this.intake(device, item), { lines: Math.min(allowed, BATCH_LINES), untilMs }, (item, err) => this.intakeFailed(device, item, err));
        } catch (err) {
          this.ctx.log.warn({ err, device }, 'could not read the worklist');
          r = { lines: 0, more: false };
        }
        this.buckets.get(device)!.tokens -= r.lines;
        if (r.more) waitMs = 0;
        else this.due.delete(device);
      }
    } finally {
      this.draining = false;
    }
    if (this.due.size === 0 || this.closed) return;
    // A short sleep between rounds, not setImmediate: the NAS then idles about half the time
    // while it drains a flood, so on a busy machine the scheduler runs it promptly when an HTTP
    // request or a sync message arrives.
    // (An infinite wait means a device became due during the round: serve it next round.)
    this.drainTimer = setTimeout(() => this.drain(), waitMs === 0 || !Number.isFinite(waitMs) ? ROUND_GAP_MS : waitMs);
    this.drainTimer.unref();
  }

  /** Lines this device may send now (a token bucket: WORKLIST_LINES_PER_SECOND, burst WORKLIST_BURST). */
  private tokens(device: string): number {
    const now = performance.now();
    const b = this.buckets.get(device) ?? { tokens: WORKLIST_BURST, at: now };
    b.tokens = Math.min(WORKLIST_BURST, b.tokens + ((now - b.at) * WORKLIST_LINES_PER_SECOND) / 1000);
    b.at = now;
    this.buckets.set(device, b);
    return b.tokens;
  }

  private intake(device: string, item: WorklistItem): void {
    const fallbackId = lineFallbackId(device, item);
    if (item.kind === 'too-long') {
      this.processor.submit(null, 'worklist', { fallbackId, device, problem: `A worklist line of ${item.bytes} bytes was refused: the limit is ${MAX_LINE_BYTES} bytes (64 KiB).` });
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(item.text);
    } catch (err) {
      this.processor.submit(null, 'worklist', { fallbackId, device, problem: `A worklist line is not valid JSON (${(err as Error).message}): ${JSON.stringify(item.text.slice(0, 80))}.` });
      return;
    }
    this.processor.submit(raw, 'worklist', { fallbackId, device });
  }

  /** A line that could not become a request at all (intake threw): a failed request that says why. */
  private intakeFailed(device: string, item: WorklistItem, err: unknown): void {
    this.ctx.log.warn({ err, device, offset: item.offset }, 'a worklist line could not be taken in');
    const fallbackId = `${lineFallbackId(device, item)}-x`;
    const why = err instanceof Error ? err.message : String(err);
    this.processor.submit(null, 'worklist', { fallbackId, device, problem: `The worklist line at byte ${item.offset} could not be read as a request (${why.slice(0, 200)}); it was skipped.` });
  }

  private watch(device: string): void {
    if (this.watchers.has(device)) return;
    const dir = path.join(this.ctx.layout.device(device), WORKLIST_DIR);
    if (!fs.lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return;
    try {
      const w = fs.watch(dir, { persistent: false }, () => this.pollDevice(device, false));
      w.on('error', () => {
        w.close();
        this.watchers.delete(device);
      });
      this.watchers.set(device, w);
    } catch {
      /* the poll timer still covers it */
    }
  }

  private indexChanged(e: IndexChangedEvent): void {
    if (this.closed) return;
    try {
      const byArea = new Map<string, string[]>();
      for (const c of e.changes) {
        const list = byArea.get(c.area) ?? [];
        list.push(c.path);
        byArea.set(c.area, list);
      }
      for (const [area, paths] of byArea) {
        if (area === FILES_AREA) this.storeChanged(paths);
        else if (area.startsWith('device:')) this.deviceChanged(area.slice(7), paths);
        else if (area.startsWith('share:')) this.shareChanged(area.slice(6), paths);
      }
    } catch (err) {
      this.ctx.log.error({ err }, 'automatic requests after an index change failed');
    }
  }

  /**
   * New store files under subscribed folders go to the subscribed devices; a store file replaced
   * by a new version (new inode) is relinked on the devices that held the old one (via adopt).
   */
  private storeChanged(paths: string[]): void {
    const { layout } = this.ctx;
    const subs = this.processor.subscriptions;
    const covered: string[] = [];
    const devices = this.ctx.store.devices.list().map((d) => d.name);
    for (const p of [...paths].sort((a, b) => a.length - b.length)) {
      if (p === '' || covered.some((c) => p.startsWith(c + '/'))) continue;
      const st = fs.lstatSync(path.join(layout.files, p), { throwIfNoEntry: false });
      if (!st || (!st.isFile() && !st.isDirectory())) continue;
      if (st.isFile()) {
        for (const d of devices) {
          const rec = subs.linkOf(d, p);
          if (!rec || rec.ino === st.ino) continue;
          const there = fs.lstatSync(path.join(layout.device(d), p), { throwIfNoEntry: false });
          if (there?.isFile() && there.ino === rec.ino) this.processor.submit({ id: autoId('adopt', d, p, st), device: d, action: 'adopt', path: p }, 'auto');
        }
      }
      for (const d of subs.subscribersOf(p)) {
        if (subs.isExcluded(d, p)) continue;
        const there = fs.lstatSync(path.join(layout.device(d), p), { throwIfNoEntry: false });
        if (there && st.isFile()) continue;
        if (st.isFile() || !there) {
          this.processor.submit({ id: autoId('auto-get', d, p, st), device: d, action: 'auto-get', path: p }, 'auto');
        }
      }
      if (st.isDirectory()) covered.push(p);
    }
  }

  /**
   * A friend wrote into a shared folder (one with a size limit): adopt-share takes what fits
   * into files/ and tells the friend about the rest. The id names this set of changes, so a
   * repeated index event runs once.
   */
  private shareChanged(shareId: string, paths: string[]): void {
    const share = this.processor.shares.get(shareId);
    if (!share || share.state !== 'active' || share.limit_mb === null) return;
    const dir = this.ctx.layout.share(shareId);
    const h = crypto.createHash('sha1').update(shareId);
    for (const p of [...paths].sort()) {
      const st = fs.lstatSync(path.join(dir, p), { throwIfNoEntry: false });
      h.update(`\0${p}\0${st ? `${st.ino}:${st.size}:${st.mtimeMs}:${st.nlink}` : '-'}`);
    }
    this.processor.submit({ id: `adopt-share-${h.digest('hex').slice(0, 24)}`, device: NAS_REQUESTER, action: 'adopt-share', path: share.source_path, args: { shareId } }, 'auto');
  }

  /** A device's new or changed files are adopted; its own deletions are remembered. */
  private deviceChanged(device: string, paths: string[]): void {
    const { layout } = this.ctx;
    if (!this.ctx.store.devices.get(device)) return;
    const subs = this.processor.subscriptions;
    const covered: string[] = [];
    for (const p of [...paths].sort((a, b) => a.length - b.length)) {
      if (p === '' || covered.some((c) => p.startsWith(c + '/'))) continue;
      if (this.ownLinks?.has(path.join(layout.device(device), p))) continue;
      const st = fs.lstatSync(path.join(layout.device(device), p), { throwIfNoEntry: false });
      const storeSt = fs.lstatSync(path.join(layout.files, p), { throwIfNoEntry: false });
      if (!st) {
        // Deleted on the device: the store keeps it; a subscribed folder must not bring it back.
        if (storeSt && subs.subscribersOf(p).includes(device)) subs.exclude(device, p);
        subs.forgetLinksUnder(device, p);
        continue;
      }
      if (st.isFile()) {
        if (storeSt && storeSt.ino === st.ino && storeSt.dev === st.dev) continue;
        this.processor.submit({ id: autoId('adopt', device, p, st), device, action: 'adopt', path: p }, 'auto');
      } else if (st.isDirectory() && !storeSt) {
        this.processor.submit({ id: autoId('adopt', device, p, st), device, action: 'adopt', path: p }, 'auto');
        covered.push(p);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.drainTimer) clearTimeout(this.drainTimer);
    if (this.trashTimer) clearInterval(this.trashTimer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.ctx?.indexer.off('changed', this.onChanged);
    await this.processor?.idle();
  }
}

function autoId(kind: string, device: string, p: string, st: fs.Stats): string {
  const h = crypto.createHash('sha1').update(`${device}\0${p}\0${st.ino}\0${st.mtimeMs}\0${st.size}`).digest('hex').slice(0, 24);
  return `${kind}-${h}`;
}
