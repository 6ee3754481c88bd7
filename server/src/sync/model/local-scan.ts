/**
 * Local changes of a publishing folder: the file watcher, and the scan that
 * turns what changed on disk into signed records (stat first, hashing only
 * files whose size, mtime, inode or mode changed).
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyncError } from '../errors.js';
import { makeRecord, vvBump, type PlainRecord } from './records.js';
import { META_DIR, hashFile, walk, type StatInfo } from './scanner.js';
import type { FolderState } from './folder-state.js';
import { sameBlocks, forEachLimit } from './util.js';
import { flush, idOf, scheduleSave, install } from './index-store.js';
import { openRead } from './block-server.js';
import { checkSynced } from './status.js';

/** A created path that is a folder holding folders: the watcher did not see those made (see startWatcher). */
function holdsFolders(abs: string): boolean {
  try {
    return fs.readdirSync(abs, { withFileTypes: true }).some((d) => d.isDirectory());
  } catch {
    return false; // a file, or gone again
  }
}

/** No watcher here (none for this system, or it failed to start): say so; the periodic rescans cover. */
function unavailable(f: FolderState, e: unknown): false {
  f.err(new SyncError('IO', 'file watcher unavailable, relying on periodic rescans: ' + (e as Error).message));
  return false;
}

/** At most this many created paths are looked into per batch; more, and the whole watch is renewed. */
const CREATED_CHECK_LIMIT = 200;
const RENEW_MIN_INTERVAL_MS = 1000;
/**
 * While the puller writes, the folders it makes ask for most renewals, and each renewal walks the
 * whole folder: a pull of 32,000 files into nested folders renewed (and walked) about once a
 * second. Then a renewal waits for the puller to finish, or this long at most, so a user's file
 * in a new folder is still seen within it.
 */
const RENEW_BUSY_INTERVAL_MS = 30_000;
const pullerBusy = (f: FolderState): boolean => f.active > 0;

/**
 * Start the file watcher; false if none is available on this system.
 *
 * @parcel/watcher on Linux (inotify) watches a new folder only once it reports it, and never the
 * folders made inside it before that (parcel-bundler/watcher#97, open): after `mkdir -p a/b/c`
 * or a copied tree, nothing under a/b is ever reported again, and a file written there waited
 * for the hourly reconcile (the several-NAS ledger lost results this way). So when a created
 * folder already holds folders, the watch is renewed (a new subscription walks the tree and
 * watches every folder), then the whole folder is walked, stat only, for what changed while
 * no watch stood.
 */
export async function startWatcher(f: FolderState): Promise<boolean> {
  let watcher: typeof import('@parcel/watcher');
  try {
    watcher = await import('@parcel/watcher');
  } catch (e) {
    return unavailable(f, e);
  }
  let t: NodeJS.Timeout | null = null;
  let pending: Set<string> | null = new Set();
  let created = new Set<string>();
  let renewAgain = false;
  let renewing: Promise<void> | null = null;
  let generation = 0;
  const subscribe = () =>
    watcher.subscribe(
      f.root,
      (err, events) => {
        if (err || !pending || events.length > 2000) pending = null;
        else for (const ev of events) pending.add(ev.path);
        if (pending && pending.size > 2000) pending = null;
        for (const ev of events) if (ev.type === 'create' && created.size <= CREATED_CHECK_LIMIT) created.add(ev.path);
        if (t) clearTimeout(t);
        t = setTimeout(() => {
          const set = pending;
          const made = created;
          pending = new Set();
          created = new Set();
          if (made.size > CREATED_CHECK_LIMIT || [...made].some(holdsFolders)) renewWatch();
          if (set) void scan(f, [...set]);
          else void scan(f);
        }, 20);
      },
      // An absolute path: a bare name would also hide user folders of that name deeper down.
      // parcel shares one watcher among subscriptions with the same folder and options, so a
      // renewal must differ: it also ignores a name inside the engine's folder (ignored anyway).
      { ignore: [path.join(f.root, META_DIR), path.join(f.root, META_DIR, `watch-${generation++}`)] },
    );
  const renewWatch = (): void => {
    renewAgain = true;
    if (renewing) return; // the running renewal goes round again
    renewing = (async () => {
      while (renewAgain && !f.closed) {
        renewAgain = false;
        // Old first: parcel keeps one inotify watch per folder for all subscriptions, so
        // dropping the old one after the new would take the new one's watches with it.
        await f.watcherSub?.unsubscribe().catch(() => undefined);
        f.watcherSub = null;
        if (f.closed) return;
        const fresh = await subscribe();
        if (f.closed) return void (await fresh.unsubscribe().catch(() => undefined));
        f.watcherSub = fresh;
        // What changed while no watch stood, anywhere: a stat-only walk, hashing only what changed.
        await scan(f);
        // A tree being copied in makes new nested folders all the time: renew at most once a second,
        // and while the puller is writing, once it is done (or RENEW_BUSY_INTERVAL_MS at most).
        const since = Date.now();
        await sleep(RENEW_MIN_INTERVAL_MS);
        while (renewAgain && !f.closed && pullerBusy(f) && Date.now() - since < RENEW_BUSY_INTERVAL_MS) await sleep(250);
      }
    })()
      .catch((e) => f.err(new SyncError('IO', 'renewing the file watcher failed, relying on periodic rescans: ' + (e as Error).message)))
      .finally(() => (renewing = null));
  };
  try {
    f.watcherSub = await subscribe();
    return true;
  } catch (e) {
    return unavailable(f, e);
  }
}

/** Scan the whole folder, or only the given absolute paths (from the watcher). */
export function scan(f: FolderState, only?: string[]): Promise<void> {
  if (!f.canPublish || f.closed) return Promise.resolve();
  if (only) for (const p of only) f.rescanPaths.add(p);
  else f.rescanAgain = true;
  if (f.scanning) return f.scanning;
  f.scanning = (async () => {
    while ((f.rescanAgain || f.rescanPaths.size) && !f.closed) {
      const full = f.rescanAgain;
      const paths = [...f.rescanPaths];
      f.rescanAgain = false;
      f.rescanPaths.clear();
      await scanOnce(f, full ? undefined : paths).catch((e) => f.err(e as Error));
    }
  })().finally(() => {
    f.scanning = null;
    if ((f.rescanAgain || f.rescanPaths.size) && !f.closed) void scan(f, []);
    checkSynced(f);
  });
  return f.scanning;
}

export async function scanOnce(f: FolderState, only?: string[]): Promise<void> {
  // Entries installed after this point (received while we scan) were not
  // seen by our stats: never treat them as locally changed or deleted.
  const startSeq = f.seq;
  let files: Map<string, StatInfo>;
  let subset: Set<string> | null = null;
  if (only) {
    // Targeted scan: the changed paths (files, or directories: walk those).
    files = new Map();
    subset = new Set();
    for (const abs of only) {
      const rel = path.relative(f.root, abs).split(path.sep).join('/');
      if (!rel || rel.startsWith('..') || rel === META_DIR || rel.startsWith(META_DIR + '/')) continue;
      let st: fs.Stats | null = null;
      try {
        st = f.fsa.lstat(rel) ?? null; // a symlink on the way: as if missing
      } catch {
        st = null;
      }
      if (st?.isDirectory()) {
        for (const [r, s2] of await walk(abs, false)) {
          files.set(rel + '/' + r, s2);
          subset.add(rel + '/' + r);
        }
        for (const known of f.entries.paths(rel)) subset.add(known.path);
      } else {
        subset.add(rel);
        if (st?.isFile()) files.set(rel, { size: st.size, mtime: Math.floor(st.mtimeMs), ino: st.ino, mode: st.mode & 0o777 });
        for (const known of f.entries.paths(rel)) subset.add(known.path);
      }
    }
  } else files = await walk(f.root);
  let changed = false;
  const todo: Array<[string, StatInfo | undefined]> = [];
  // Which files differ from the stat cache: a full scan reads the cache in one pass, not a lookup per file.
  const differ = new Set(files.keys());
  if (!subset) {
    flush(f);
    for (const c of f.db!.local()) {
      const st = files.get(c.path);
      if (st && sameStat(c, st)) differ.delete(c.path);
    }
  }
  for (const rel of differ) {
    const cache = f.local.get(rel);
    if (cache && sameStat(cache, files.get(rel)!)) continue;
    if (f.applying.has(rel)) continue;
    todo.push([rel, cache]);
  }
  differ.clear();
  await forEachLimit(todo, 4, async ([rel, cache]) => {
    if (f.closed) return;
    const st = files.get(rel)!;
    const known = idOf(f, rel);
    const was = known ? f.entries.get(known) : undefined;
    if (cache && was?.p && !was.p.del && cache.size === st.size && cache.mtime === st.mtime && cache.ino === st.ino && was.p.size === st.size && was.p.mtime === st.mtime) {
      // Only the permission bits changed: same content, so no need to read and hash the file again.
      if (was.seq > startSeq || f.applying.has(rel)) return;
      const plain: PlainRecord = { ...was.p, mode: st.mode };
      f.local.set(rel, st);
      install(f, makeRecord(f.keys, plain, vvBump(was.s.vv, f.device), was.s.blocks), plain);
      changed = true;
      return;
    }
    const h = await hashFile(() => openRead(f, rel), f.keys);
    if (!h || f.applying.has(rel) || !sameStat(f.local.get(rel), cache) || f.closed) return;
    const id = idOf(f, rel);
    const cur = id ? f.entries.get(id) : undefined;
    if (cur && cur.seq > startSeq) return;
    const stat: StatInfo = { size: h.size, mtime: h.mtime, ino: h.ino, mode: h.mode };
    if (cur?.p && !cur.p.del && cur.p.size === h.size && cur.p.mtime === h.mtime && cur.p.mode === h.mode && sameBlocks(cur.p.blocks, h.blocks)) {
      f.local.set(rel, stat);
      return;
    }
    const plain: PlainRecord = { path: rel, size: h.size, mtime: h.mtime, mode: h.mode, bs: h.bs, blocks: h.blocks, del: false };
    const rec = makeRecord(f.keys, plain, vvBump(cur?.s.vv ?? [], f.device), h.cipher);
    f.local.set(rel, stat);
    install(f, rec, plain);
    changed = true;
  });
  for (const [rel, id] of subset ? [...subset].map((r) => [r, idOf(f, r)] as const) : f.entries.paths().map((k) => [k.path, k.id] as const)) {
    if (!id || files.has(rel) || f.applying.has(rel)) continue;
    const cur = f.entries.get(id);
    if (!cur?.p || cur.p.del || cur.seq > startSeq) continue;
    const plain: PlainRecord = { path: rel, size: 0, mtime: Date.now(), mode: cur.p.mode, bs: 128 * 1024, blocks: [], del: true };
    f.local.delete(rel);
    install(f, makeRecord(f.keys, plain, vvBump(cur.s.vv, f.device), []), plain);
    changed = true;
  }
  if (changed) scheduleSave(f);
}

/** Same size, mtime, inode and mode (or both unknown). */
function sameStat(a: StatInfo | undefined, b: StatInfo | undefined): boolean {
  if (!a || !b) return a === b;
  return a.size === b.size && a.mtime === b.mtime && a.ino === b.ino && a.mode === b.mode;
}
