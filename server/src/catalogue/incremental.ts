import type { ScanChange } from '../index/scanner.js';
import { SharesRepo, type ShareRow } from '../store/shares-repo.js';
import { FILES_AREA } from '../store/entries-repo.js';
import { DEFAULT_CHUNK_EVERY, compareUtf8, renderRun, renderSmallFiles, repoOf, shareHoldings, sharesKeyOf, type BuildInput, type BuiltCatalogue, type CatalogueState } from './build.js';
import { NeedFullBuild, ShardCutter, shardFile, type Shard } from './shards.js';

/** More changed paths than this in one publish: a full build is as cheap and simpler. */
export const MAX_INCREMENTAL_CHANGES = 20_000;

/** A stretch of store paths [lo, hi) whose rows may have changed. */
interface Stretch {
  lo: string;
  hi: string;
}

/** A change at path p covers p and everything below it (a removed folder takes its subtree). */
const stretchOf = (p: string): Stretch => ({ lo: p, hi: p + '0' }); // "0" follows "/"

/** Which store paths the changes touch: files/ rows directly, device and share rows by the store path they hold. */
function changedStretches(changes: readonly ScanChange[], shares: ShareRow[]): { stretches: Stretch[]; shareAreas: boolean } {
  const byId = new Map(shares.map((s) => [s.id, s]));
  const out: Stretch[] = [];
  let shareAreas = false;
  for (const c of changes) {
    let p: string | null = null;
    if (c.area === FILES_AREA || c.area.startsWith('device:')) p = c.path;
    else if (c.area.startsWith('share:')) {
      shareAreas = true;
      const s = byId.get(c.area.slice(6));
      if (!s) continue; // an inactive share holds nothing the catalogue shows
      const top = s.source_path === '' ? '' : s.source_path.slice(s.source_path.lastIndexOf('/') + 1);
      if (top === '') p = c.path;
      else if (c.path === '' || c.path === top) p = s.source_path;
      else if (c.path.startsWith(top + '/')) p = s.source_path + c.path.slice(top.length);
      else continue;
    } else continue;
    // A whole area (a device folder rescanned from its top) touches everything.
    if (p === '') throw new NeedFullBuild('a whole area changed');
    out.push(stretchOf(p));
  }
  out.sort((a, b) => compareUtf8(a.lo, b.lo));
  return { stretches: out, shareAreas };
}

/** The last shard starting at or before p (0 when p sorts before every shard). */
function shardAt(shards: readonly Shard[], p: string): number {
  let lo = 0;
  let hi = shards.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (compareUtf8(shards[mid]!.first, p) <= 0) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The next catalogue from the previous one and the paths that changed since: only the shards
 * around each change are read again and re-cut, until a new boundary falls on an old shard's
 * start past every change (from there on the old shards are what a full build would make).
 * Throws NeedFullBuild when it cannot be sure of that; the output is otherwise byte for byte
 * what buildCatalogueData makes of the same index (test/catalogue/incremental.test.ts).
 */
export function updateCatalogueData(prev: CatalogueState, input: BuildInput & { changes: readonly ScanChange[] }): BuiltCatalogue {
  const every = input.chunkEvery ?? DEFAULT_CHUNK_EVERY;
  if (every !== prev.every) throw new NeedFullBuild('shard size changed');
  if (input.changes.length > MAX_INCREMENTAL_CHANGES) throw new NeedFullBuild('too many changes');
  const old = prev.shards;
  if (old.length === 0) throw new NeedFullBuild('nothing to start from');
  // A suffixed name ("<name>-2") depends on which clashing shard came first: only a full build knows.
  if (old.some((s) => s.name.includes('-'))) throw new NeedFullBuild('a suffixed shard name');
  const repo = repoOf(input.store);
  const shares = new SharesRepo(input.store.db).list({ active: true });
  const sharesKey = sharesKeyOf(shares);
  if (sharesKey !== prev.sharesKey) throw new NeedFullBuild('shares changed');
  // A device that joins or leaves changes the holders of every path its folder has.
  const removedDevices = prev.devices.filter((d) => !input.devices.includes(d));
  for (const d of [...removedDevices, ...input.devices.filter((d) => !prev.devices.includes(d))]) {
    if (repo.areaHasFiles(`device:${d}`)) throw new NeedFullBuild(`device ${d} joined or left with files`);
  }
  const { stretches, shareAreas } = changedStretches(input.changes, shares);
  const shareHeld = shareAreas ? shareHoldings(repo, shares) : prev.shareHeld;

  const shards: Shard[] = [];
  const contents = new Map<string, string>();
  const replaced: string[] = [];
  let rowsRead = 0;
  let next = 0; // the first old shard neither copied nor replaced yet
  let k = 0; // the first change not yet inside a re-read stretch
  while (k < stretches.length) {
    let i = shardAt(old, stretches[k]!.lo);
    // A change at a shard's own first path may remove that start: begin one shard earlier.
    if (i > 0 && old[i]!.first === stretches[k]!.lo) i--;
    if (i < next) throw new NeedFullBuild('changes out of order');
    for (let j = next; j < i; j++) shards.push(old[j]!);
    const from = i === 0 ? '' : old[i]!.first;
    const cutter = new ShardCutter(every, () => false, 'fail', i === 0 ? undefined : { name: old[i]!.name });
    let hiMax = stretches[k]!.hi;
    k++;
    let j = i + 1;
    const run = renderRun(repo, cutter, input.devices, shareHeld, from, (p, cut) => {
      while (k < stretches.length && compareUtf8(stretches[k]!.lo, p) <= 0) {
        if (compareUtf8(stretches[k]!.hi, hiMax) > 0) hiMax = stretches[k]!.hi;
        k++;
      }
      if (!cut) return 'go';
      while (j < old.length && compareUtf8(old[j]!.first, p) < 0) j++;
      // Past every change and on an old start: the rest is what it was.
      return j < old.length && old[j]!.first === p && compareUtf8(p, hiMax) >= 0 ? 'stop' : 'go';
    });
    rowsRead += run.rows;
    if (i > 0 && run.first !== old[i]!.first) throw new NeedFullBuild('a shard start vanished');
    const end = run.stopped ? j : old.length;
    for (let x = i; x < end; x++) replaced.push(old[x]!.name);
    for (const s of cutter.shards) {
      shards.push(s);
      contents.set(s.name, cutter.contents.get(s.name)!);
    }
    next = end;
    if (!run.stopped) k = stretches.length;
  }
  for (let j = next; j < old.length; j++) shards.push(old[j]!);

  const names = new Set(shards.map((s) => s.name));
  if (names.size !== shards.length) throw new NeedFullBuild('shard names clash');
  const state: CatalogueState = { every, devices: [...input.devices], sharesKey, shares, shareHeld, shards };
  const files = new Map<string, string>();
  for (const [name, body] of contents) files.set(shardFile(name), body);
  const sum = renderSmallFiles(files, state, input, repo);
  const removed = [...new Set(replaced)].filter((n) => !names.has(n)).map(shardFile);
  for (const d of removedDevices) removed.push(`devices/${d}.js`);
  return { files, fileCount: sum.files, dirCount: sum.dirs, bytes: sum.bytes, chunks: shards.length, state, removed, rowsRead };
}
