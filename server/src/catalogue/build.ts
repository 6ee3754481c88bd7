import crypto from 'node:crypto';
import type { Store } from '../store/index.js';
import { CatalogueRepo } from '../store/catalogue-repo.js';
import type { RequestStatusSource } from '../nas-context.js';
import { FIELD_SEP, RECORD_FIELDS, escapePathPart, isBoundary, jsCall, sharedPrefixLength } from './record-format.js';

/** On average one shard per this many records (about 7 KB; backup boundaries cap them near 20 KB): small enough that one change rewrites little. */
export const DEFAULT_CHUNK_EVERY = 384;
/** The first-draw summary lists at most this many top-level entries. */
export const TOP_LIMIT = 300;
/** Requests per device shown in its request shard. */
export const REQUESTS_PER_DEVICE = 200;

export interface BuildInput {
  store: Store;
  devices: string[];
  trashDays: number;
  requests?: RequestStatusSource | undefined;
  /** Each device's request rows already read (the publish worker gets them as data); wins over `requests`. */
  requestRows?: ReadonlyMap<string, RequestRow[]> | undefined;
  chunkEvery?: number;
}

export interface BuiltCatalogue {
  /** Output files relative to catalogue/, with their content. */
  files: Map<string, string>;
  fileCount: number;
  dirCount: number;
  bytes: number;
  chunks: number;
}

const repos = new WeakMap<object, CatalogueRepo>();
function repoOf(store: Store): CatalogueRepo {
  let r = repos.get(store.db);
  if (!r) repos.set(store.db, (r = new CatalogueRepo(store.db)));
  return r;
}

/** One request as a device's request shard shows it: plain data, so it can also cross to the publish worker. */
export interface RequestRow {
  id: string;
  action: string;
  path: string;
  state: string;
  reason: string | null;
  updatedAt: number;
}

/** The newest requests of one device, as its request shard lists them. */
export function deviceRequestRows(requests: RequestStatusSource | undefined, device: string): RequestRow[] {
  const recent = requests?.recentForDevice(device, REQUESTS_PER_DEVICE) ?? [];
  return recent.map((r) => ({ id: r.id, action: r.action, path: r.path, state: r.state, reason: r.reason ?? null, updatedAt: r.updatedAt }));
}

/** "device:laptop" → "laptop", "share:<id>" → "+<id>", anything else → null. */
function holderToken(area: string): string | null {
  if (area.startsWith('device:')) return area.slice(7);
  if (area.startsWith('share:')) return '+' + area.slice(6);
  return null;
}

/** Which devices and shares hold each inode, as the ready-made holders field. */
function holdersByInode(repo: CatalogueRepo): Map<string, string> {
  const sets = new Map<string, Set<string>>();
  for (const [dev, ino, area] of repo.holderLinks()) {
    const t = holderToken(area);
    if (t === null) continue;
    const key = `${dev}:${ino}`;
    let s = sets.get(key);
    if (!s) sets.set(key, (s = new Set()));
    s.add(t);
  }
  const out = new Map<string, string>();
  // Devices first, then shares, each sorted, so the field is stable across publishes.
  for (const [k, s] of sets) {
    const all = [...s].sort();
    out.set(k, [...all.filter((t) => t[0] !== '+'), ...all.filter((t) => t[0] === '+')].join('/'));
  }
  return out;
}

interface TopAggregate {
  size: number;
  count: number;
  mtime: number;
  held: Map<string, number>;
}

/**
 * Render the catalogue's data from the index: a manifest (index.js), a first-draw summary of
 * the top level (summary.js), content-defined shards of every path (c-<name>.js) and one small
 * request-state shard per device (devices/<name>.js). catalogue.html itself is static.
 */
export function buildCatalogueData(input: BuildInput): BuiltCatalogue {
  const every = input.chunkEvery ?? DEFAULT_CHUNK_EVERY;
  const repo = repoOf(input.store);
  const holders = holdersByInode(repo);
  const files = new Map<string, string>();
  const chunkNames: string[] = [];
  const top: Array<[string, string, number, number, number, string]> = [];
  const topAgg = new Map<string, TopAggregate>();
  let fileCount = 0;
  let dirCount = 0;
  let bytes = 0;

  let parts: string[] = [];
  let chunkName = '0';
  let prev = '';
  const flush = () => {
    if (parts.length === 0) return;
    let name = chunkName;
    for (let n = 2; files.has(`data/c-${name}.js`); n++) name = `${chunkName}-${n}`;
    chunkNames.push(name);
    files.set(`data/c-${name}.js`, jsCall('BURROW_CHUNK', name, parts.join(FIELD_SEP)));
    parts = [];
    prev = '';
  };

  for (const [p, kind, size, mtimeMs, dev, ino] of repo.filesSorted()) {
    if (isBoundary(p, every, parts.length / RECORD_FIELDS)) {
      flush();
      chunkName = crypto.createHash('sha1').update(p).digest('hex').slice(0, 12);
    }
    const held = kind === 'file' ? (holders.get(`${dev}:${ino}`) ?? '') : '';
    const mtime = Math.floor(mtimeMs / 1000);
    const plen = sharedPrefixLength(prev, p);
    parts.push(plen.toString(36), escapePathPart(p.slice(plen)), kind === 'dir' ? 'd' : 'f', kind === 'dir' ? '' : size.toString(36), mtime.toString(36), held);
    prev = p;

    const slash = p.indexOf('/');
    if (slash < 0) {
      if (top.length < TOP_LIMIT) top.push([p, kind === 'dir' ? 'd' : 'f', kind === 'dir' ? 0 : size, mtime, 0, held]);
      if (kind === 'dir' && !topAgg.has(p)) topAgg.set(p, { size: 0, count: 0, mtime, held: new Map() });
    }
    if (kind === 'dir') {
      dirCount++;
      continue;
    }
    fileCount++;
    bytes += size;
    if (slash >= 0) {
      const agg = topAgg.get(p.slice(0, slash));
      if (agg) {
        agg.size += size;
        agg.count++;
        if (mtime > agg.mtime) agg.mtime = mtime;
        if (held) for (const h of held.split('/')) agg.held.set(h, (agg.held.get(h) ?? 0) + 1);
      }
    }
  }
  flush();

  // Top-level folders carry their whole subtree's size, file count, newest date and holders
  // (a holder listed with "=" holds every file, without it only some).
  for (const row of top) {
    const agg = row[1] === 'd' ? topAgg.get(row[0]) : undefined;
    if (!agg) continue;
    row[2] = agg.size;
    row[3] = agg.mtime;
    row[4] = agg.count;
    row[5] = [...agg.held].map(([h, n]) => (n === agg.count ? '=' : '') + h).sort().join('/');
  }

  files.set('data/index.js', jsCall('BURROW_INDEX', { v: 1, chunks: chunkNames, devices: input.devices, trashDays: input.trashDays }));
  files.set('data/summary.js', jsCall('BURROW_SUMMARY', { files: fileCount, dirs: dirCount, bytes, top, topComplete: top.length < TOP_LIMIT }));
  for (const d of input.devices) {
    files.set(`devices/${d}.js`, jsCall('BURROW_REQUESTS', d, input.requestRows?.get(d) ?? deviceRequestRows(input.requests, d)));
  }
  return { files, fileCount, dirCount, bytes, chunks: chunkNames.length };
}
