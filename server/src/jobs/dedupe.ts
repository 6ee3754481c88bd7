/**
 * The dedupe job: replace duplicate files inside files/ by hard links to one copy.
 *
 * Scope: files/ only (the spec: "This must not work outside /BTsync/files as it could erase
 * BackUps"). Paths in devices/ and shared/ are never touched, and an inode that also has links
 * outside files/ is never replaced (that would save nothing and detach those links from files/).
 *
 * Method: the index gives every files/ path with its size, inode and (cached) hashes. Only sizes
 * held by two or more inodes are candidates; within them we compare the partial hash, then the
 * full hash (hashing only what is missing or stale, in worker threads), then byte for byte.
 * Paths that already share an inode are one candidate, so an already-deduped store is skipped
 * without reading a byte, and a nightly run on an unchanged store reads only the index.
 *
 * An inode with a link outside the root (its nlink is more than the links the index knows in
 * files/, devices/ and shared/) is left out entirely: it is never the keeper, so no store path
 * ever becomes a link to an outside file, and it is never replaced.
 *
 * Keeper (the inode that survives), deterministic: the inode with links outside files/ first
 * (so device and share links stay linked to files/), then the most links, then the oldest
 * mtime, then the lowest inode number. The keeper's metadata survives for every path of the
 * group: its mode, owner, mtime and xattrs. By default a duplicate whose owner, mode or xattrs
 * differ from the keeper's is skipped and reported (jobs.dedupeAllowMetadataMismatch lifts that);
 * a different mtime is allowed, and the paths then show the keeper's (oldest) mtime.
 *
 * Replacement, journaled in SQLite so kill -9 at any point leaves every path with its original
 * content (batches of up to 256 paths share one commit for steps 1 and 4):
 *   1. journal the plan (keeper, duplicate, temp name, both inodes)
 *   2. per path: link(keeper, <dup folder>/.burrow-tmp-dedupe-<id>)   (same folder ⇒ same filesystem;
 *      every step goes through anchored-fs, so a folder swapped for a symlink is refused)
 *   3. per path: re-check the duplicate is still the inode, size and mtime we compared, then
 *      rename(temp, dup) (atomic: the path always names a file, before or after)
 *   4. close the journal rows
 * Recovery (at the start of every run) removes a journaled temp name if it is still the
 * keeper's inode; the duplicate path is untouched before step 3 and identical after it.
 *
 * Not detectable: a process that keeps a duplicate open and writes to it after the last re-check
 * writes to the old inode. Files modified in the last jobs.dedupeMinAgeSeconds are skipped to
 * keep that window to files nobody is writing.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Store } from '../store/index.js';
import type { DedupeCandidate } from '../store/dedupe-repo.js';
import { HashPool } from '../index/hash-pool.js';
import { PARTIAL_BYTES } from '../index/hash-file.js';
import { FaultInjector } from './fault.js';
import { readXattrFingerprints } from './xattrs.js';
import { sameBytes } from './compare.js';
import { anchoredAt, type AnchoredDir } from '../anchored-fs/index.js';
import { TorrentsRepo, type TorrentFile } from '../store/torrents-repo.js';

export type SkipReason =
  | 'too-new'
  | 'metadata-mismatch'
  | 'changed-since-hashing'
  | 'content-differs'
  | 'other-filesystem'
  | 'linked-outside-files'
  | 'linked-outside-root'
  | 'in-torrent'
  | 'unreadable'
  | 'error';

export const SKIP_REASONS: Record<SkipReason, string> = {
  'too-new': 'modified too recently (may still be written)',
  'metadata-mismatch': 'owner, mode or xattrs differ from the kept copy',
  'changed-since-hashing': 'changed since it was indexed or hashed',
  'content-differs': 'same hash but different bytes',
  'other-filesystem': 'on another filesystem than the kept copy',
  'linked-outside-files': 'also linked outside files/ (a device, a share, or elsewhere)',
  'linked-outside-root': 'hard-linked from outside the NAS root: never kept, never linked to',
  'in-torrent': 'served by an active torrent, which stops if its inode is replaced',
  unreadable: 'could not be read',
  error: 'an error while linking',
};

export interface DedupeReport {
  runId: number | null;
  dryRun: boolean;
  /** Sets of two or more distinct inodes with equal content. */
  groups: number;
  /** Paths replaced by a link to their keeper (or that would be, with --dry-run). */
  filesLinked: number;
  /** Inodes whose last link went away. */
  inodesFreed: number;
  bytesSaved: number;
  bytesSkipped: number;
  skipped: Partial<Record<SkipReason, { files: number; bytes: number }>>;
  /** Up to 100 examples: what was (or would be) linked, and what was skipped and why. */
  linked: Array<{ path: string; keeper: string; size: number }>;
  skippedExamples: Array<{ path: string; reason: SkipReason; detail?: string }>;
  emptyFilesIgnored: number;
  candidates: number;
  /** Hash reads this run (a file that needed a partial and then a full hash counts twice). */
  hashed: { files: number; bytes: number };
  compared: { pairs: number; bytes: number };
  recovered: number;
  timings: { queryMs: number; hashMs: number; compareAndLinkMs: number; totalMs: number };
}

export interface DedupeProgress {
  phase: 'hash' | 'link';
  done: number;
  total: number;
}

export interface DedupeOptions {
  dryRun?: boolean;
  minAgeSeconds: number;
  allowMetadataMismatch: boolean;
  hashWorkers: number;
  /** Bring the index in line with the paths the job changed (the indexer's refresh() in the NAS). */
  refresh?: (absPaths: string[]) => void;
  onProgress?: (p: DedupeProgress) => void;
  faults?: FaultInjector;
  /** Test seam: runs right before the final re-check of a duplicate, to simulate a racing writer. */
  beforeReplace?: (dupAbs: string, keeperAbs: string) => void;
  now?: () => number;
}

interface Inode {
  dev: number;
  ino: number;
  size: number;
  mtime_ms: number;
  nlink: number;
  mode: number;
  uid: number;
  gid: number;
  paths: string[];
  partial: Buffer | null;
  full: Buffer | null;
  stale: boolean;
}

const EXAMPLES = 100;
/** Replacements journaled per transaction (one commit per batch, not per file). */
const BATCH_PATHS = 256;
const SWITCH_CONCURRENCY = 8;
export const DEDUPE_TEMP_PREFIX = '.burrow-tmp-dedupe-';

export async function runDedupe(store: Store, filesDir: string, opts: DedupeOptions): Promise<DedupeReport> {
  const t0 = performance.now();
  const now = opts.now ?? Date.now;
  const faults = opts.faults ?? new FaultInjector();
  const dryRun = opts.dryRun ?? false;
  const report: DedupeReport = {
    runId: null,
    dryRun,
    groups: 0,
    filesLinked: 0,
    inodesFreed: 0,
    bytesSaved: 0,
    bytesSkipped: 0,
    skipped: {},
    linked: [],
    skippedExamples: [],
    emptyFilesIgnored: 0,
    candidates: 0,
    hashed: { files: 0, bytes: 0 },
    compared: { pairs: 0, bytes: 0 },
    recovered: 0,
    timings: { queryMs: 0, hashMs: 0, compareAndLinkMs: 0, totalMs: 0 },
  };
  const changed: string[] = [];
  const A = anchoredAt(filesDir);
  report.recovered = recoverDedupeJournal(store, filesDir, changed);
  const runId = dryRun ? null : store.dedupe.startRun(false);
  report.runId = runId;
  try {
    const skip = (inode: Inode, reason: SkipReason, detail?: string) => {
      const s = (report.skipped[reason] ??= { files: 0, bytes: 0 });
      s.files += inode.paths.length;
      s.bytes += inode.size;
      report.bytesSkipped += inode.size;
      if (report.skippedExamples.length < EXAMPLES) report.skippedExamples.push({ path: inode.paths[0]!, reason, ...(detail ? { detail } : {}) });
    };

    // 1. Candidates from the index: sizes shared by two or more inodes, grouped by (dev, size).
    const tq = performance.now();
    report.emptyFilesIgnored = store.dedupe.emptyFiles();
    const sizeGroups: Inode[][] = [];
    let group: Inode[] = [];
    let last: Inode | undefined;
    for (const c of store.dedupe.candidates() as Iterable<DedupeCandidate>) {
      report.candidates++;
      if (last && last.dev === c.dev && last.ino === c.ino) {
        last.paths.push(c.path);
        continue;
      }
      if (last && (last.dev !== c.dev || last.size !== c.size)) {
        if (group.length > 1) sizeGroups.push(group);
        group = [];
      }
      last = { dev: c.dev, ino: c.ino, size: c.size, mtime_ms: c.mtime_ms, nlink: c.nlink, mode: c.mode, uid: c.uid, gid: c.gid, paths: [c.path], partial: c.partial_hash, full: c.full_hash, stale: false };
      group.push(last);
    }
    if (group.length > 1) sizeGroups.push(group);
    report.timings.queryMs = performance.now() - tq;

    // 2. Hash what is missing: partial hashes for every candidate, full hashes where partials collide.
    const th = performance.now();
    const hasher = new CandidateHasher(store, filesDir, opts.hashWorkers, report, (i, why) => {
      i.stale = true;
      skip(i, why === 'changed' ? 'changed-since-hashing' : 'unreadable', why === 'changed' ? undefined : why);
    }, opts.onProgress);
    try {
      // Small files: the partial read already covers the whole file, so hash them fully at once.
      await hasher.hash(sizeGroups.flat().filter((i) => !i.partial || (i.size <= 2 * PARTIAL_BYTES && !i.full)), (i) => i.size <= 2 * PARTIAL_BYTES);
      const fullNeeded: Inode[] = [];
      for (const g of sizeGroups) for (const sub of splitBy(g.filter((i) => !i.stale), (i) => i.partial!)) if (sub.length > 1) fullNeeded.push(...sub.filter((i) => !i.full));
      await hasher.hash(fullNeeded, () => true);
    } finally {
      await hasher.close();
    }
    report.timings.hashMs = performance.now() - th;

    // 3. Equal-content sets (same dev, size, full hash), then compare byte for byte and link.
    const tl = performance.now();
    const sets: Inode[][] = [];
    for (const g of sizeGroups) {
      for (const byPartial of splitBy(g.filter((i) => !i.stale), (i) => i.partial!)) {
        if (byPartial.length < 2) continue;
        for (const sub of splitBy(byPartial.filter((i) => !i.stale && i.full), (i) => i.full!)) if (sub.length > 1) sets.push(sub);
      }
    }
    report.groups = sets.length;
    const minMtime = now() - opts.minAgeSeconds * 1000;
    // An active torrent is served only while its files keep the inode it hashed: such an inode may
    // be kept (the others are linked to it) but never replaced (soak finding 7).
    const torrentInodes = new Set<string>();
    for (const t of new TorrentsRepo(store.db).list({ active: true })) for (const f of JSON.parse(t.files) as TorrentFile[]) torrentInodes.add(`${f.dev}:${f.ino}`);
    const inTorrent = (i: Inode) => torrentInodes.has(`${i.dev}:${i.ino}`);
    const xattrs = opts.allowMetadataMismatch ? null : readXattrsFor(filesDir, sets);
    let batch: Array<{ keeper: Inode; dup: Inode }> = [];
    let batchPaths = 0;
    let done = 0;
    const total = sets.reduce((n, s) => n + s.length - 1, 0);
    for (const set of sets) {
      const fresh = set.filter((i) => {
        if (i.mtime_ms > minMtime) {
          skip(i, 'too-new');
          return false;
        }
        return true;
      });
      if (fresh.length < 2) {
        done += set.length - 1;
        continue;
      }
      const inRoot = fresh.filter((i) => {
        const why = linkedOutsideRoot(i);
        if (why) skip(i, 'linked-outside-root', why);
        return !why;
      });
      if (inRoot.length < 2) {
        done += set.length - 1;
        continue;
      }
      const order = pickKeeperOrder(inRoot);
      const served = order.findIndex(inTorrent);
      if (served > 0) order.unshift(...order.splice(served, 1));
      const [keeper, ...dups] = order;
      for (const dup of dups) {
        if (inTorrent(dup)) skip(dup, 'in-torrent');
        else await linkDuplicate(keeper!, dup);
        opts.onProgress?.({ phase: 'link', done: ++done, total });
      }
    }
    await flushBatch();
    report.timings.compareAndLinkMs = performance.now() - tl;

    /** Why `i` has a link outside the root (more links on disk than the index knows inside it), or null. */
    function linkedOutsideRoot(i: Inode): string | null {
      let st;
      try {
        st = A.lstat(i.paths[0]!);
      } catch (err) {
        return `unreachable: ${(err as Error).message}`; // a symlink on the way: leave it alone
      }
      if (!st) return null; // gone: the re-checks below skip it
      const known = i.paths.length + store.entries.holdersOf(i.dev, i.ino).length;
      return st.nlink > known ? `${st.nlink} links, ${known} inside the root` : null;
    }

    async function linkDuplicate(keeper: Inode, dup: Inode): Promise<void> {
      const keeperAbs = path.join(filesDir, keeper.paths[0]!);
      // Links the index does not know of in files/ count as outside: never replace what we cannot see.
      const nlink = fs.lstatSync(path.join(filesDir, dup.paths[0]!), { throwIfNoEntry: false })?.nlink ?? dup.nlink;
      if (nlink > dup.paths.length) return skip(dup, 'linked-outside-files', `${nlink} links, ${dup.paths.length} in files/`);
      if (!opts.allowMetadataMismatch) {
        const why = metadataDifference(keeper, dup, xattrs, filesDir);
        if (why) return skip(dup, 'metadata-mismatch', why);
      }
      // Re-check both against what was hashed, then prove equality byte for byte.
      if (!unchanged(keeperAbs, keeper) || !dup.paths.every((p) => unchanged(path.join(filesDir, p), dup))) return skip(dup, 'changed-since-hashing');
      const dupAbs0 = path.join(filesDir, dup.paths[0]!);
      let equal: boolean;
      try {
        equal = sameBytes(keeperAbs, keeper, dupAbs0, dup);
      } catch (err) {
        return skip(dup, (err as { code?: string }).code === 'ECHANGED' ? 'changed-since-hashing' : 'unreadable', (err as Error).message);
      }
      report.compared.pairs++;
      report.compared.bytes += dup.size * 2;
      if (!equal) return skip(dup, 'content-differs');
      if (dryRun) {
        for (const rel of dup.paths) noteLinked(rel, keeper);
        report.inodesFreed++;
        report.bytesSaved += dup.size;
        return;
      }
      batch.push({ keeper, dup });
      batchPaths += dup.paths.length;
      if (batchPaths >= BATCH_PATHS) await flushBatch();
    }

    /** Journal a batch of replacements in one transaction, switch each path, then close the batch. */
    async function flushBatch(): Promise<void> {
      if (batch.length === 0) return;
      const pairs = batch;
      batch = [];
      batchPaths = 0;
      const planned = store.dedupe.journalPlanBatch(
        pairs.flatMap(({ keeper, dup }) =>
          dup.paths.map((rel) => ({ run_id: runId!, keeper_path: keeper.paths[0]!, dup_path: rel, keeper_dev: keeper.dev, keeper_ino: keeper.ino, dup_ino: dup.ino })),
        ),
        tempNameFor,
      );
      faults.step();
      // Switch the paths several at a time: most of a switch is the kernel freeing the replaced
      // inode's blocks, and those overlap (8 at once measured ~8x faster than one by one on ext4).
      let k = 0;
      const jobs = pairs.flatMap(({ keeper, dup }) => dup.paths.map((rel) => ({ keeper, dup, rel, j: planned[k++]!, outcome: null as SwitchOutcome | null })));
      let next = 0;
      const worker = async () => {
        while (next < jobs.length) {
          const job = jobs[next++]!;
          job.outcome = await switchToLink(filesDir, A, job.keeper, job.rel, job.dup, job.j.temp_path!, faults, opts.beforeReplace);
        }
      };
      await Promise.all(Array.from({ length: SWITCH_CONCURRENCY }, worker));
      store.dedupe.journalCloseBatch(jobs.map((x) => ({ id: x.j.id, state: x.outcome === 'done' ? 'done' : 'recovered' })));
      k = 0;
      const outcomes = pairs.map(({ dup }) => dup.paths.map(() => ({ rel: jobs[k]!.rel, outcome: jobs[k++]!.outcome! })));
      faults.step();
      pairs.forEach(({ keeper, dup }, i) => {
        let replaced = 0;
        for (const { rel, outcome } of outcomes[i]!) {
          if (outcome === 'done') {
            replaced++;
            changed.push(path.join(filesDir, rel));
            noteLinked(rel, keeper);
          } else {
            skip({ ...dup, paths: [rel], size: 0 }, outcome.reason, outcome.detail); // bytes are counted once, below
          }
        }
        if (replaced === dup.paths.length) {
          report.inodesFreed++;
          report.bytesSaved += dup.size;
        } else {
          report.bytesSkipped += dup.size;
        }
        if (replaced > 0) changed.push(...keeper.paths.map((p) => path.join(filesDir, p)));
      });
    }

    function noteLinked(rel: string, keeper: Inode): void {
      report.filesLinked++;
      if (report.linked.length < EXAMPLES) report.linked.push({ path: rel, keeper: keeper.paths[0]!, size: keeper.size });
    }

    if (changed.length > 0) opts.refresh?.([...new Set(changed)]);
    report.timings.totalMs = performance.now() - t0;
    if (runId !== null) {
      store.dedupe.finishRun(runId, { state: 'done', groups: report.groups, filesLinked: report.filesLinked, bytesSaved: report.bytesSaved, bytesSkipped: report.bytesSkipped, report });
    }
    return report;
  } catch (err) {
    if (changed.length > 0) opts.refresh?.([...new Set(changed)]);
    if (runId !== null) {
      store.dedupe.finishRun(runId, { state: 'failed', groups: report.groups, filesLinked: report.filesLinked, bytesSaved: report.bytesSaved, bytesSkipped: report.bytesSkipped, report, error: String((err as Error)?.message ?? err) });
    }
    throw err;
  }
}

/** The keeper first, then the duplicates in a stable order (see the module comment). */
export function pickKeeperOrder<T extends { nlink: number; paths: string[]; mtime_ms: number; ino: number }>(inodes: T[]): T[] {
  const outside = (i: T) => (i.nlink > i.paths.length ? 1 : 0);
  return [...inodes].sort((a, b) => outside(b) - outside(a) || b.nlink - a.nlink || a.mtime_ms - b.mtime_ms || a.ino - b.ino);
}

function tempNameFor(dupRel: string, id: number): string {
  const dir = path.posix.dirname(dupRel);
  return dir === '.' ? `${DEDUPE_TEMP_PREFIX}${id}` : `${dir}/${DEDUPE_TEMP_PREFIX}${id}`;
}

type SwitchOutcome = 'done' | { reason: SkipReason; detail?: string };

/** Replace `rel` (a path of `dup`, already journaled with `tempRel`) by a link to the keeper. */
async function switchToLink(
  filesDir: string,
  A: AnchoredDir,
  keeper: Inode,
  rel: string,
  dup: Inode,
  tempRel: string,
  faults: FaultInjector,
  beforeReplace: DedupeOptions['beforeReplace'],
): Promise<SwitchOutcome> {
  const keeperAbs = path.join(filesDir, keeper.paths[0]!);
  const dupAbs = path.join(filesDir, rel);
  try {
    await A.linkAsync(keeper.paths[0]!, tempRel);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { reason: code === 'EXDEV' ? 'other-filesystem' : 'error', detail: `link: ${code ?? (err as Error).message}` };
  }
  faults.step();
  beforeReplace?.(dupAbs, keeperAbs);
  try {
    return await replaceWithTemp(A, keeper, rel, dup, dupAbs, tempRel, faults);
  } catch (err) {
    removeTemp(A, tempRel); // a folder on the way became a symlink: refused, nothing replaced
    return { reason: 'error', detail: (err as Error).message };
  }
}

async function replaceWithTemp(A: AnchoredDir, keeper: Inode, rel: string, dup: Inode, dupAbs: string, tempRel: string, faults: FaultInjector): Promise<SwitchOutcome> {
  // Last look before the switch: the temp must be the keeper, the duplicate what we compared.
  const tempSt = A.lstat(tempRel);
  const tempIsKeeper = !!tempSt && tempSt.isFile() && tempSt.ino === keeper.ino && tempSt.dev === keeper.dev;
  if (!tempIsKeeper || !unchanged(dupAbs, dup)) {
    if (tempIsKeeper) removeTemp(A, tempRel);
    return { reason: 'changed-since-hashing' };
  }
  // The rename runs on libuv's pool so several switches overlap; the re-check above is as close
  // before it as this allows (a writer racing in this window is the limit stated at the top).
  try {
    await A.renameAsync(tempRel, rel);
  } catch (err) {
    removeTemp(A, tempRel);
    return { reason: 'error', detail: `rename: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  faults.step();
  return 'done';
}

/**
 * Finish what a killed run left: a journaled temp name that is still the keeper's inode is
 * removed (the duplicate path was either untouched or already replaced by identical content).
 * A temp name that is something else is left alone: it is not ours to delete.
 */
export function recoverDedupeJournal(store: Store, filesDir: string, changed: string[] = []): number {
  let n = 0;
  const A = anchoredAt(filesDir);
  for (const j of store.dedupe.openJournal()) {
    if (j.temp_path) {
      const st = A.lstat(j.temp_path);
      if (st && st.isFile() && st.ino === j.keeper_ino && st.dev === j.keeper_dev) A.unlink(j.temp_path);
    }
    changed.push(path.join(filesDir, j.dup_path), path.join(filesDir, j.keeper_path));
    store.dedupe.journalClose(j.id, 'recovered');
    n++;
  }
  return n;
}

/** Remove our temp link; a failure here leaves a name the next run's recovery removes. */
function removeTemp(A: AnchoredDir, rel: string): void {
  try {
    A.unlink(rel);
  } catch {
    /* gone already, or unreachable: recovery handles it */
  }
}

/** Is the path still the inode, size and mtime we indexed and hashed? */
function unchanged(abs: string, i: Inode): boolean {
  const st = fs.lstatSync(abs, { throwIfNoEntry: false });
  return !!st && st.isFile() && st.ino === i.ino && st.dev === i.dev && st.size === i.size && st.mtimeMs === i.mtime_ms;
}

function metadataDifference(keeper: Inode, dup: Inode, xattrs: Map<string, string | null> | null, filesDir: string): string | null {
  const diffs: string[] = [];
  if (keeper.uid !== dup.uid || keeper.gid !== dup.gid) diffs.push(`owner ${dup.uid}:${dup.gid} vs ${keeper.uid}:${keeper.gid}`);
  if ((keeper.mode & 0o7777) !== (dup.mode & 0o7777)) diffs.push(`mode ${(dup.mode & 0o7777).toString(8)} vs ${(keeper.mode & 0o7777).toString(8)}`);
  if (xattrs === null) {
    diffs.push('xattrs could not be read (python3 missing)');
  } else {
    const a = xattrs.get(path.join(filesDir, keeper.paths[0]!));
    const b = xattrs.get(path.join(filesDir, dup.paths[0]!));
    if (a === null || b === null || a === undefined || b === undefined) diffs.push('xattrs could not be read');
    else if (a !== b) diffs.push('xattrs differ');
  }
  return diffs.length > 0 ? diffs.join(', ') : null;
}

function readXattrsFor(filesDir: string, sets: Inode[][]): Map<string, string | null> | null {
  const paths = sets.flatMap((s) => s.map((i) => path.join(filesDir, i.paths[0]!)));
  return readXattrFingerprints(paths);
}

function splitBy(inodes: Inode[], key: (i: Inode) => Buffer): Inode[][] {
  const m = new Map<string, Inode[]>();
  for (const i of inodes) {
    const k = key(i).toString('base64');
    const l = m.get(k);
    if (l) l.push(i);
    else m.set(k, [i]);
  }
  return [...m.values()];
}

/** Hashes candidates in the shared worker pool and stores the results in the index. */
class CandidateHasher {
  private pool: HashPool | null = null;
  constructor(
    private readonly store: Store,
    private readonly filesDir: string,
    private readonly workers: number,
    private readonly report: DedupeReport,
    private readonly onStale: (i: Inode, why: string) => void,
    private readonly onProgress?: (p: DedupeProgress) => void,
  ) {}

  async hash(inodes: Inode[], wantFull: (i: Inode) => boolean): Promise<void> {
    if (inodes.length === 0) return;
    this.pool ??= new HashPool(this.workers);
    const pool = this.pool;
    const limit = Math.max(4, this.workers * 4);
    const running = new Set<Promise<void>>();
    let results: Array<{ i: Inode; partial: Buffer; full: Buffer | null }> = [];
    const flush = () => {
      const batch = results;
      results = [];
      this.store.tx(() => {
        for (const r of batch) this.store.contents.put({ dev: r.i.dev, ino: r.i.ino, size: r.i.size, mtime_ms: r.i.mtime_ms, partial: r.partial, full: r.full });
      });
    };
    let done = 0;
    for (const i of inodes) {
      const p: Promise<void> = pool
        .hash(path.join(this.filesDir, i.paths[0]!), wantFull(i))
        .then((r) => {
          if (r.size !== i.size || r.mtime_ms !== i.mtime_ms) return this.onStale(i, 'changed');
          i.partial = r.partial;
          if (r.full) i.full = r.full;
          results.push({ i, partial: r.partial, full: r.full });
          this.report.hashed.files++;
          this.report.hashed.bytes += r.full ? i.size : Math.min(i.size, 2 * PARTIAL_BYTES);
          if (results.length >= 500) flush();
        })
        .catch((err: NodeJS.ErrnoException) => this.onStale(i, err.code === 'ECHANGED' || err.code === 'ENOENT' ? 'changed' : `${err.code ?? ''} ${err.message}`.trim()))
        .finally(() => {
          running.delete(p);
          this.onProgress?.({ phase: 'hash', done: ++done, total: inodes.length });
        });
      running.add(p);
      if (running.size >= limit) await Promise.race(running);
    }
    await Promise.all(running);
    flush();
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
