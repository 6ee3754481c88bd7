import crypto from 'node:crypto';
import { FIELD_SEP, RECORD_FIELDS, escapePathPart, isBoundary, jsCall, sharedPrefixLength } from './record-format.js';

/** The first-draw summary lists at most this many top-level entries. */
export const TOP_LIMIT = 300;

/** One top-level entry as summary.js lists it: [name, "d"/"f", size, mtime s, file count, holders]. */
export type TopRow = [string, 'd' | 'f', number, number, number, string];

/** What one shard's files add to a top-level folder's totals. */
export interface TopPart {
  size: number;
  count: number;
  mtime: number;
  held: Map<string, number>;
}

/**
 * What the publisher remembers of one data shard between publishes: where it starts, its name,
 * and its share of the summary. Its bytes are not kept (the writer remembers their digest).
 */
export interface Shard {
  name: string;
  /** The path of its first record; shards start at content-defined boundaries. */
  first: string;
  files: number;
  dirs: number;
  bytes: number;
  /** Its top-level entries, in order (at most TOP_LIMIT), with their own size and date. */
  tops: TopRow[];
  /** Per top-level folder: the files below it that sit in this shard. */
  below: Map<string, TopPart>;
}

export const shardNameOf = (firstPath: string): string => crypto.createHash('sha1').update(firstPath).digest('hex').slice(0, 12);

export const shardFile = (name: string): string => `data/c-${name}.js`;

/** Thrown when an incremental publish cannot prove its result equals a full one; the caller rebuilds. */
export class NeedFullBuild extends Error {}

/**
 * Cuts a path-ordered run of records into shards and renders them: the one implementation both
 * the full build and the incremental publish use, so both produce the same bytes.
 * `start` continues at a known shard boundary (its name, its first record not re-checked);
 * without it the run is the start of the catalogue (first shard "0").
 */
export class ShardCutter {
  readonly shards: Shard[] = [];
  /** Each shard's file body by name, unless a sink takes them as they are cut. */
  readonly contents = new Map<string, string>();
  private readonly names = new Set<string>();
  private parts: string[] = [];
  private records = 0;
  private prev = '';
  private name: string;
  private forced: boolean;
  private cur: Shard | null = null;

  constructor(
    private readonly every: number,
    /** Whether a shard name is already used elsewhere in the catalogue. */
    private readonly taken: (name: string) => boolean,
    /** Suffix a clashing name (full build) or give up (incremental: the suffix depends on order). */
    private readonly onClash: 'suffix' | 'fail',
    start?: { name: string },
    /** Takes each shard's body as soon as it is cut (a full build at 1M files held ~40 MB of them). */
    private readonly sink?: (name: string, body: string) => void,
  ) {
    this.name = start?.name ?? '0';
    this.forced = start !== undefined;
  }

  /** Whether the next record, at this path, starts a new shard. */
  cutsAt(p: string): boolean {
    if (this.forced) return false;
    return isBoundary(p, this.every, this.records);
  }

  /** Add one record; `cut` is what cutsAt(p) answered. */
  add(p: string, kind: 'file' | 'dir', size: number, mtimeMs: number, held: string, cut: boolean): void {
    if (cut) {
      this.flush();
      this.name = shardNameOf(p);
    }
    this.forced = false;
    let s = this.cur;
    if (!s) s = this.cur = { name: '', first: p, files: 0, dirs: 0, bytes: 0, tops: [], below: new Map() };
    const mtime = Math.floor(mtimeMs / 1000);
    const plen = sharedPrefixLength(this.prev, p);
    this.parts.push(plen.toString(36), escapePathPart(p.slice(plen)), kind === 'dir' ? 'd' : 'f', kind === 'dir' ? '' : size.toString(36), mtime.toString(36), held);
    this.records++;
    this.prev = p;

    const slash = p.indexOf('/');
    if (slash < 0 && s.tops.length < TOP_LIMIT) s.tops.push([p, kind === 'dir' ? 'd' : 'f', kind === 'dir' ? 0 : size, mtime, 0, held]);
    if (kind === 'dir') {
      s.dirs++;
      return;
    }
    s.files++;
    s.bytes += size;
    if (slash >= 0) {
      const top = p.slice(0, slash);
      let part = s.below.get(top);
      if (!part) s.below.set(top, (part = { size: 0, count: 0, mtime: -Infinity, held: new Map() }));
      part.size += size;
      part.count++;
      if (mtime > part.mtime) part.mtime = mtime;
      if (held) for (const h of held.split('/')) part.held.set(h, (part.held.get(h) ?? 0) + 1);
    }
  }

  /** End the shard being filled (call once after the last record of the run). */
  flush(): void {
    const s = this.cur;
    if (!s) return;
    const used = (x: string) => this.taken(x) || this.names.has(x);
    let name = this.name;
    if (this.onClash === 'fail' && used(name)) throw new NeedFullBuild(`shard name ${name} clashes`);
    for (let n = 2; used(name); n++) name = `${this.name}-${n}`;
    s.name = name;
    this.shards.push(s);
    const body = jsCall('BURROW_CHUNK', name, this.parts.join(FIELD_SEP));
    this.names.add(name);
    if (this.sink) this.sink(name, body);
    else this.contents.set(name, body);
    this.parts = [];
    this.records = 0;
    this.prev = '';
    this.cur = null;
  }
}

/** The summary's totals and top level, from every shard's share of it. */
export function summarize(shards: readonly Shard[]): { files: number; dirs: number; bytes: number; top: TopRow[] } {
  let files = 0;
  let dirs = 0;
  let bytes = 0;
  const top: TopRow[] = [];
  for (const s of shards) {
    files += s.files;
    dirs += s.dirs;
    bytes += s.bytes;
    for (const t of s.tops) if (top.length < TOP_LIMIT) top.push([...t]);
  }
  // Top-level folders carry their whole subtree's size, file count, newest date and holders
  // (a holder listed with "=" holds every file, without it only some).
  const dirsAtTop = new Map<string, TopRow>();
  for (const row of top) if (row[1] === 'd') dirsAtTop.set(row[0], row);
  const agg = new Map<string, TopPart>();
  for (const row of dirsAtTop.values()) agg.set(row[0], { size: 0, count: 0, mtime: row[3], held: new Map() });
  if (agg.size > 0) {
    for (const s of shards) {
      for (const [name, part] of s.below) {
        const a = agg.get(name);
        if (!a) continue;
        a.size += part.size;
        a.count += part.count;
        if (part.mtime > a.mtime) a.mtime = part.mtime;
        for (const [h, n] of part.held) a.held.set(h, (a.held.get(h) ?? 0) + n);
      }
    }
  }
  for (const [name, a] of agg) {
    const row = dirsAtTop.get(name)!;
    row[2] = a.size;
    row[3] = a.mtime;
    row[4] = a.count;
    row[5] = [...a.held].map(([h, n]) => (n === a.count ? '=' : '') + h).sort().join('/');
  }
  return { files, dirs, bytes, top };
}
