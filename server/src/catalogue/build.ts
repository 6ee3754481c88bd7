import type { Store } from '../store/index.js';
import { CatalogueRepo } from '../store/catalogue-repo.js';
import { SharesRepo, type ShareRow } from '../store/shares-repo.js';
import { PlacementRepo } from '../store/placement-repo.js';
import type { RequestStatusSource } from '../nas-context.js';
import { jsCall } from './record-format.js';
import { ShardCutter, TOP_LIMIT, shardFile, summarize, type Shard } from './shards.js';

/** On average one shard per this many records (about 7 KB; backup boundaries cap them near 20 KB): small enough that one change rewrites little. */
export const DEFAULT_CHUNK_EVERY = 384;
export { TOP_LIMIT };
/** Requests per device shown in its request shard. */
export const REQUESTS_PER_DEVICE = 200;

export interface BuildInput {
  store: Store;
  devices: string[];
  trashDays: number;
  /**
   * What this NAS offers that the page must know before it shows an entry: a feature that is off
   * (torrent.enabled: false) is shown disabled with the reason, instead of failing after the user
   * confirmed. Default true.
   */
  torrents?: boolean | undefined;
  requests?: RequestStatusSource | undefined;
  /** Each device's request rows already read (the publish worker gets them as data); wins over `requests`. */
  requestRows?: ReadonlyMap<string, RequestRow[]> | undefined;
  chunkEvery?: number;
  /**
   * A full build hands each shard (file name relative to catalogue/, body) here as soon as it is
   * cut instead of keeping it in `files`, so memory does not grow with the store.
   */
  shardSink?: (file: string, body: string) => void;
}

export interface BuiltCatalogue {
  /** Output files relative to catalogue/, with their content. */
  files: Map<string, string>;
  fileCount: number;
  dirCount: number;
  bytes: number;
  chunks: number;
  /** What the next publish starts from. */
  state: CatalogueState;
  /** Files (relative to catalogue/) this publish no longer produces; an incremental publish names them. */
  removed: string[];
  /** How many index rows of files/ it read. */
  rowsRead: number;
}

const repos = new WeakMap<object, CatalogueRepo>();
export function repoOf(store: Store): CatalogueRepo {
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

/** Compare like SQLite's BINARY collation on UTF-8 text (code point order), not UTF-16 code units. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+10000 and up) sort after U+E000-U+FFFF in code point order.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Which devices hold each store path: a device holds a *path* when its folder has a file at that
 * path (never "a file with the same inode", which after dedupe would credit a device with every
 * path linked to the content it holds). Each device's paths stream in the same order as the
 * store's, so this is a merge that keeps nothing per file in memory.
 */
class DeviceHoldings {
  private readonly cursors: Array<{ name: string; it: Iterator<string>; cur: string | undefined }>;

  constructor(repo: CatalogueRepo, devices: string[], from = '') {
    this.cursors = [...devices].sort().map((name) => {
      const it = repo.deviceFilePaths(name, from)[Symbol.iterator]();
      return { name, it, cur: it.next().value as string | undefined };
    });
  }

  /** The devices holding this path; call with paths in ascending store order. */
  at(p: string): string[] {
    const out: string[] = [];
    for (const c of this.cursors) {
      while (c.cur !== undefined && compareUtf8(c.cur, p) < 0) c.cur = c.it.next().value as string | undefined;
      if (c.cur === p) out.push(c.name);
    }
    return out;
  }

  close(): void {
    for (const c of this.cursors) c.it.return?.();
  }
}

/** Which active shares hold each store path: a share of files/<P> holds P's own path, or P/<rest> where its folder has <top>/<rest>. */
export function shareHoldings(repo: CatalogueRepo, shares: ShareRow[]): Map<string, string[]> {
  const byId = new Map(shares.map((s) => [s.id, s]));
  const out = new Map<string, string[]>();
  for (const [id, rel] of repo.shareFiles()) {
    const s = byId.get(id);
    if (!s) continue;
    const top = s.source_path === '' ? '' : s.source_path.slice(s.source_path.lastIndexOf('/') + 1);
    let p: string;
    if (top === '') p = rel;
    else if (rel === top) p = s.source_path;
    else if (rel.startsWith(top + '/')) p = s.source_path + rel.slice(top.length);
    else continue;
    const list = out.get(p);
    if (list) list.push(id);
    else out.set(p, [id]);
  }
  for (const list of out.values()) list.sort();
  return out;
}

/**
 * What the publisher keeps between publishes so the next one re-reads only what changed: every
 * shard's start, name and share of the summary, and what the holders were computed from.
 */
export interface CatalogueState {
  every: number;
  devices: string[];
  /** The active shares as far as the catalogue depends on them; any change means a full build. */
  sharesKey: string;
  shares: ShareRow[];
  shareHeld: Map<string, string[]>;
  shards: Shard[];
}

export const sharesKeyOf = (shares: ShareRow[]): string => JSON.stringify(shares.map((s) => [s.id, s.source_path, s.limit_mb]));

/** Render a path-ordered run of store rows from `from` into the cutter; `stop` may end it early at a shard boundary. */
export function renderRun(
  repo: CatalogueRepo,
  cutter: ShardCutter,
  devices: string[],
  shareHeld: ReadonlyMap<string, string[]>,
  from: string,
  visit?: (p: string, cut: boolean) => 'stop' | 'go',
): { rows: number; first: string | undefined; stopped: boolean } {
  const devHeld = new DeviceHoldings(repo, devices, from);
  let rows = 0;
  let first: string | undefined;
  let stopped = false;
  try {
    for (const [p, kind, size, mtimeMs] of repo.filesSorted(from)) {
      if (rows === 0) first = p;
      const cut = cutter.cutsAt(p);
      if (visit && visit(p, cut) === 'stop') {
        stopped = true;
        break;
      }
      rows++;
      const held = kind === 'file' ? [...devHeld.at(p), ...(shareHeld.get(p) ?? []).map((id) => '+' + id)].join('/') : '';
      cutter.add(p, kind, size, mtimeMs, held, cut);
    }
  } finally {
    devHeld.close();
  }
  cutter.flush();
  return { rows, first, stopped };
}

/**
 * Several NAS: the zones holding each top-level folder, and how many files sit in too few zones
 * (with a few of their paths), as the cluster service last worked it out; null in no group.
 */
function zonesSummary(repo: CatalogueRepo): { required: number; under: number; samples: string[]; folders: Array<[string, string[]]> } | null {
  const placement = new PlacementRepo(repo.db);
  const s = placement.summary();
  if (!s) return null;
  return { required: s.required, under: s.under, samples: s.samples.slice(0, 3), folders: [...placement.topLevel()] }; // pairs, not an object: a folder may be named __proto__
}

/** The small files every publish renders again: the manifest, the summary and each device's request shard. */
export function renderSmallFiles(files: Map<string, string>, state: CatalogueState, input: BuildInput, repo: CatalogueRepo): ReturnType<typeof summarize> {
  const sum = summarize(state.shards);
  // Every active share with what it shares, so the menu offers [revoke] / [revoke share] only on
  // the entry a share belongs to: [id, path, "ro" (share) or "rw" (share-folder)].
  const shareList = state.shares.map((s) => [s.id, s.source_path, s.limit_mb === null ? 'ro' : 'rw']);
  files.set('data/index.js', jsCall('BURROW_INDEX', { v: 1, chunks: state.shards.map((s) => s.name), devices: input.devices, trashDays: input.trashDays, shares: shareList }));
  files.set('data/summary.js', jsCall('BURROW_SUMMARY', { files: sum.files, dirs: sum.dirs, bytes: sum.bytes, top: sum.top, topComplete: sum.top.length < TOP_LIMIT, features: { torrent: input.torrents !== false }, zones: zonesSummary(repo) }));
  // The third argument tells the device's agent how far the NAS has read its worklist: a request
  // read but no longer listed has finished (open requests are always listed first).
  const readTo = repo.worklistOffsets();
  for (const d of input.devices) {
    files.set(`devices/${d}.js`, jsCall('BURROW_REQUESTS', d, input.requestRows?.get(d) ?? deviceRequestRows(input.requests, d), { worklistReadTo: readTo.get(d) ?? 0 }));
  }
  return sum;
}

/**
 * Render the catalogue's data from the index: a manifest (index.js), a first-draw summary of
 * the top level (summary.js), content-defined shards of every path (c-<name>.js) and one small
 * request-state shard per device (devices/<name>.js). catalogue.html itself is static.
 */
export function buildCatalogueData(input: BuildInput): BuiltCatalogue {
  const every = input.chunkEvery ?? DEFAULT_CHUNK_EVERY;
  const repo = repoOf(input.store);
  const shares = new SharesRepo(input.store.db).list({ active: true });
  const shareHeld = shareHoldings(repo, shares);
  const sink = input.shardSink;
  const cutter = new ShardCutter(every, () => false, 'suffix', undefined, sink ? (name, body) => sink(shardFile(name), body) : undefined);
  const run = renderRun(repo, cutter, input.devices, shareHeld, '');
  const state: CatalogueState = { every, devices: [...input.devices], sharesKey: sharesKeyOf(shares), shares, shareHeld, shards: cutter.shards };
  const files = new Map<string, string>();
  for (const [name, body] of cutter.contents) files.set(shardFile(name), body);
  const sum = renderSmallFiles(files, state, input, repo);
  return { files, fileCount: sum.files, dirCount: sum.dirs, bytes: sum.bytes, chunks: state.shards.length, state, removed: [], rowsRead: run.rows };
}
