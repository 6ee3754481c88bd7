import fs from 'node:fs';
import path from 'node:path';

/**
 * This device's requests: appended to files/.burrow/worklist.jsonl (the device is its only
 * writer; it syncs to the NAS's devices/<d>/.burrow/worklist.jsonl), answered by the NAS in
 * the synced catalogue, catalogue/devices/<d>.js (`BURROW_REQUESTS("<d>", [rows], {worklistReadTo})`).
 * The NAS lists a device's open requests first, then the newest finished ones, and says how far
 * it has read the worklist: a line it has read but no longer lists has finished, however old.
 * A result meant only for this device (a share's read-only secret) comes through its own folder,
 * files/.burrow/results/<id>.json.
 */
import type { WorkItem } from '../server/src/devices/exchange-formats.js';
import { DEVICE_RESULTS_REL } from '../server/src/devices/exchange-formats.js';
export type { WorkItem };

export interface RequestState {
  id: string;
  action: string;
  path: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  reason?: string;
  result?: unknown;
}

interface PublishedRow {
  id: string;
  action: string;
  path: string;
  state: RequestState['state'];
  reason: string | null;
  updatedAt: number;
}

/** How many of the newest worklist lines count as possibly pending (the NAS publishes 200 per device). */
const RECENT = 200;

export class RequestBook {
  /** Newest last; only the recent tail is kept in memory, each with the byte offset where its line ends. */
  private recent: Array<{ w: WorkItem; end: number }> = [];
  private known = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private shardCache: { mtimeMs: number; size: number; rows: Map<string, PublishedRow>; readTo: number } | null = null;

  constructor(
    private readonly worklist: string,
    private readonly shard: string,
    private readonly device: string,
  ) {}

  /** Read the worklist this device already wrote (after a restart). A torn last line is ignored. */
  load(): void {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(this.worklist);
    } catch {
      return;
    }
    for (let start = 0; start < buf.length; ) {
      let nl = buf.indexOf(10, start);
      if (nl < 0) nl = buf.length;
      const line = buf.subarray(start, nl).toString('utf8');
      start = nl + 1;
      if (!line.trim()) continue;
      try {
        const w = JSON.parse(line) as WorkItem;
        if (typeof w.id === 'string') this.remember(w, start);
      } catch {
        /* a torn line from a crash mid-append: the NAS skips it too */
      }
    }
  }

  has(id: string): boolean {
    return this.known.has(id);
  }

  /**
   * Append one line. Appends are serialised and each is one write() of a whole line with
   * O_APPEND, so lines never interleave; a line cut by a crash is the only possible damage.
   */
  append(item: WorkItem): Promise<void> {
    const line = JSON.stringify(item) + '\n';
    // Remembered at once (the page asks for its state right away); where its line ends is known once written.
    const entry = this.remember(item, Infinity);
    const next = this.writing.then(async () => {
      await fs.promises.mkdir(path.dirname(this.worklist), { recursive: true });
      const fh = await fs.promises.open(this.worklist, 'a');
      try {
        // A previous crash may have left a line without its newline: start on a fresh line.
        const st = await fh.stat();
        let prefix = '';
        if (st.size > 0) {
          const b = Buffer.alloc(1);
          const r = await fs.promises.open(this.worklist, 'r');
          try {
            await r.read(b, 0, 1, st.size - 1);
          } finally {
            await r.close();
          }
          if (b[0] !== 0x0a) prefix = '\n';
        }
        const bytes = Buffer.from(prefix + line);
        try {
          // One write(2) may write only part of the line and still succeed (a disk that fills up
          // in the middle): that torn line would have swallowed the next request's line too.
          const { bytesWritten } = await fh.write(bytes, 0, bytes.length);
          if (bytesWritten !== bytes.length) throw Object.assign(new Error(`no space left for the request (${bytesWritten} of ${bytes.length} bytes written)`), { code: 'ENOSPC' });
          await fh.sync();
        } catch (err) {
          // Take the torn line back and forget the request, so it can be sent again once there is room.
          await fh.truncate(st.size).catch(() => undefined);
          this.forget(item.id);
          throw err;
        }
        if (entry) entry.end = st.size + bytes.length;
      } finally {
        await fh.close();
      }
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  private forget(id: string): void {
    this.known.delete(id);
    const i = this.recent.findIndex((e) => e.w.id === id);
    if (i >= 0) this.recent.splice(i, 1);
  }

  private remember(w: WorkItem, end: number): { w: WorkItem; end: number } | null {
    if (this.known.has(w.id)) return null;
    this.known.add(w.id);
    const entry = { w, end };
    this.recent.push(entry);
    if (this.recent.length > RECENT) this.recent.splice(0, this.recent.length - RECENT);
    return entry;
  }

  /** What the NAS published for this device, re-read only when the shard file changed. */
  private published(): { rows: Map<string, PublishedRow>; readTo: number } {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.shard);
    } catch {
      return { rows: new Map(), readTo: 0 };
    }
    if (this.shardCache && this.shardCache.mtimeMs === st.mtimeMs && this.shardCache.size === st.size) return this.shardCache;
    const rows = new Map<string, PublishedRow>();
    let readTo = 0;
    try {
      const text = fs.readFileSync(this.shard, 'utf8').trim();
      const m = /^BURROW_REQUESTS\(([\s\S]*)\);?$/.exec(text);
      if (m) {
        const [dev, list, meta] = JSON.parse(`[${m[1]}]`) as [string, PublishedRow[], { worklistReadTo?: unknown } | undefined];
        if (dev === this.device && Array.isArray(list)) for (const r of list) if (r && typeof r.id === 'string') rows.set(r.id, r);
        if (dev === this.device && typeof meta?.worklistReadTo === 'number' && meta.worklistReadTo >= 0) readTo = meta.worklistReadTo;
      }
    } catch {
      /* a shard mid-sync: the next poll reads it again */
    }
    this.shardCache = { mtimeMs: st.mtimeMs, size: st.size, rows, readTo };
    return this.shardCache;
  }

  /** The result the NAS left for this device only (files/.burrow/results/<id>.json), if any. */
  private resultOf(id: string): unknown {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) return undefined;
    try {
      // The worklist sits in files/.burrow/, the results in files/.burrow/results/ (DEVICE_RESULTS_REL).
      const dir = path.join(path.dirname(path.dirname(this.worklist)), DEVICE_RESULTS_REL);
      const r = JSON.parse(fs.readFileSync(path.join(dir, `${id}.json`), 'utf8')) as { id?: unknown; result?: unknown };
      return r.id === id ? r.result : undefined;
    } catch {
      return undefined;
    }
  }

  /** A request's state: the NAS's word when published, else pending if this device sent it. */
  state(id: string): RequestState | undefined {
    const p = this.published().rows.get(id);
    if (p) {
      const result = p.state === 'done' ? this.resultOf(id) : undefined;
      return { id, action: p.action, path: p.path, state: p.state, ...(p.reason ? { reason: p.reason } : {}), ...(result !== undefined ? { result } : {}) };
    }
    if (!this.known.has(id)) return undefined;
    const w = this.recent.find((x) => x.w.id === id)?.w;
    return { id, action: w?.action ?? '', path: w?.path ?? '', state: 'pending' };
  }

  /** Recent requests the NAS has not finished yet. */
  pending(): RequestState[] {
    const { rows, readTo } = this.published();
    const out: RequestState[] = [];
    for (const { w, end } of this.recent) {
      const p = rows.get(w.id);
      if (p && (p.state === 'done' || p.state === 'failed')) continue;
      if (!p && end <= readTo) continue; // read by the NAS and no longer listed: finished long ago
      out.push({ id: w.id, action: w.action, path: w.path, state: p ? p.state : 'pending' });
    }
    return out;
  }

  /**
   * Whether the newest request of this device on this path (or a folder above it) takes it off
   * this device: delete, destroy, destroy-folder, or a move to other devices. Then a missing
   * file is leaving, not "syncing to this device".
   */
  leaving(rel: string): boolean {
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const w = this.recent[i]!.w;
      if (!(w.path === '' || w.path === rel || rel.startsWith(w.path + '/'))) continue;
      if (w.action === 'delete' || w.action === 'destroy' || w.action === 'destroy-folder') return true;
      if (w.action === 'move') return !(Array.isArray(w.args?.to) && (w.args.to as unknown[]).includes(this.device));
      return false;
    }
    return false;
  }
}
