import fs from 'node:fs';
import path from 'node:path';

/**
 * This device's requests: appended to files/.burrow/worklist.jsonl (the device is its only
 * writer; it syncs to the NAS's devices/<d>/.burrow/worklist.jsonl), answered by the NAS in
 * the synced catalogue, catalogue/devices/<d>.js (`BURROW_REQUESTS("<d>", [rows])`).
 */
import type { WorkItem } from '../server/src/devices/exchange-formats.js';
export type { WorkItem };

export interface RequestState {
  id: string;
  action: string;
  path: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  reason?: string;
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
  /** Newest last; only the recent tail is kept in memory. */
  private recent: WorkItem[] = [];
  private known = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private shardCache: { mtimeMs: number; size: number; rows: Map<string, PublishedRow> } | null = null;

  constructor(
    private readonly worklist: string,
    private readonly shard: string,
    private readonly device: string,
  ) {}

  /** Read the worklist this device already wrote (after a restart). A torn last line is ignored. */
  load(): void {
    let text = '';
    try {
      text = fs.readFileSync(this.worklist, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const w = JSON.parse(line) as WorkItem;
        if (typeof w.id === 'string') this.remember(w);
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
    this.remember(item);
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
        await fh.write(prefix + line);
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  private remember(w: WorkItem): void {
    if (this.known.has(w.id)) return;
    this.known.add(w.id);
    this.recent.push(w);
    if (this.recent.length > RECENT) this.recent.splice(0, this.recent.length - RECENT);
  }

  /** What the NAS published for this device, re-read only when the shard file changed. */
  private published(): Map<string, PublishedRow> {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.shard);
    } catch {
      return new Map();
    }
    if (this.shardCache && this.shardCache.mtimeMs === st.mtimeMs && this.shardCache.size === st.size) return this.shardCache.rows;
    const rows = new Map<string, PublishedRow>();
    try {
      const text = fs.readFileSync(this.shard, 'utf8').trim();
      const m = /^BURROW_REQUESTS\(([\s\S]*)\);?$/.exec(text);
      if (m) {
        const [dev, list] = JSON.parse(`[${m[1]}]`) as [string, PublishedRow[]];
        if (dev === this.device && Array.isArray(list)) for (const r of list) if (r && typeof r.id === 'string') rows.set(r.id, r);
      }
    } catch {
      /* a shard mid-sync: the next poll reads it again */
    }
    this.shardCache = { mtimeMs: st.mtimeMs, size: st.size, rows };
    return rows;
  }

  /** A request's state: the NAS's word when published, else pending if this device sent it. */
  state(id: string): RequestState | undefined {
    const p = this.published().get(id);
    if (p) return { id, action: p.action, path: p.path, state: p.state, ...(p.reason ? { reason: p.reason } : {}) };
    if (!this.known.has(id)) return undefined;
    const w = this.recent.find((x) => x.id === id);
    return { id, action: w?.action ?? '', path: w?.path ?? '', state: 'pending' };
  }

  /** Recent requests the NAS has not finished yet. */
  pending(): RequestState[] {
    const pub = this.published();
    const out: RequestState[] = [];
    for (const w of this.recent) {
      const p = pub.get(w.id);
      if (p && (p.state === 'done' || p.state === 'failed')) continue;
      out.push({ id: w.id, action: w.action, path: w.path, state: p ? p.state : 'pending' });
    }
    return out;
  }
}
