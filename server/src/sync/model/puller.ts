/**
 * The block puller: which wanted versions start, fetching their blocks from
 * several peers at once (least-loaded first, every block verified), reusing
 * local blocks, writing a temp file that resumes after a restart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BlockKind, MsgType } from '../protocol/index.js';
import { SyncError } from '../errors.js';
import { decryptBlock, vvCompare } from './records.js';
import { META_DIR } from './scanner.js';
import { TMP_REL, MAX_ACTIVE_FILES, LINK_MAX_BYTES, LINK_MAX_REQS, BLOCK_CONCURRENCY_PER_FILE, PERMANENT_FS_ERRORS, type FolderState, type Link, type Want, type HeldWant, type BlockRef, type BlockQueueItem } from './folder-state.js';
import { fileMode, now, sha256b64, sameContent, forEachLimit } from './util.js';
import { install } from './index-store.js';
import { decide, finishFile, installRemote } from './conflict-resolution.js';
import { openRead } from './block-server.js';
import { checkSynced, isLocal } from './status.js';
import { dropSource } from './wanted.js';

/** How long a want that failed on a full disk waits before it is tried again. */
const DISK_FULL_RETRY_MS = 10_000;

export function pump(f: FolderState): void {
  // A publisher scans first, so a local edit made while offline is known
  // (and can conflict) before any remote version replaces it.
  if (f.closed || !f.scannedOnce) return;
  const now = Date.now();
  let pendingData = -1;
  let nextRetry = Infinity;
  for (const w of f.wanted.values()) {
    if (f.active >= MAX_ACTIVE_FILES) break;
    if (w.active) continue;
    if (w.retryAt > now) {
      nextRetry = Math.min(nextRetry, w.retryAt);
      continue;
    }
    if (w.del) {
      if (pendingData < 0) {
        pendingData = 0;
        for (const x of f.wanted.values()) if (!x.del && (x.active || x.sources.length > 0)) pendingData++;
      }
      if (pendingData > 0) continue; // deletions after data, so renames can copy locally
    } else if (w.sources.length === 0 && !isLocal(f, w)) continue;
    start(f, w);
  }
  if (nextRetry < Infinity && !f.retryTimer) {
    f.retryTimer = setTimeout(() => {
      f.retryTimer = null;
      pump(f);
    }, Math.max(10, nextRetry - now));
  }
}


export function start(f: FolderState, want: Want): void {
  const w = f.wanted.hold(want);
  if (!w) {
    // Its stored record no longer opens (the database was changed under us): want it no more.
    f.wanted.delete(want.id);
    return;
  }
  if (f.entries.get(w.id)?.s.hash !== w.base) {
    // Our entry changed since we wanted this version (a local edit scanned
    // meanwhile): decide again, or that edit would be overwritten silently.
    const d = decide(f, w.s, w.p);
    if (!d) {
      f.wanted.delete(w.id);
      return;
    }
    w.keepLocal = d.keepLocal;
    w.base = f.entries.get(w.id)?.s.hash;
  }
  w.active = true;
  f.active++;
  const p = f.plainLevel ? applyPlain(f, w) : applyEncrypted(f, w);
  p.then(
    () => {
      w.active = false;
      f.active--;
      if (f.wanted.get(w.id) === w) f.wanted.delete(w.id);
      f.wanted.release(w);
      if (w.next) f.wanted.set(takeNext(w));
      pump(f);
      checkSynced(f);
    },
    (e: Error) => {
      w.active = false;
      f.active--;
      const name = w.p?.path ?? w.id;
      f.wanted.release(w);
      if (w.next) f.wanted.set(takeNext(w));
      w.retryAt = Date.now() + 1000;
      const code = (e as NodeJS.ErrnoException).code;
      if (code && PERMANENT_FS_ERRORS.has(code) && f.wanted.get(w.id) === w) {
        // Retrying cannot help (e.g. a name too long for this file system): fail
        // this version once, visibly, and stop blocking the rest of the folder.
        f.wanted.delete(w.id);
        f.failedVersions.add(w.hash);
        if (!f.closed) f.err(new SyncError('IO', `cannot write ${name}: ${e.message}; this version is skipped`));
      } else if (code === 'ENOSPC' || code === 'SQLITE_FULL') {
        // A full disk: every want would fail each second, each with its own error. Try again
        // in a while, and say so once a minute.
        w.retryAt = Date.now() + DISK_FULL_RETRY_MS;
        if (!f.closed && Date.now() - f.lastDiskFullReport > 60_000) {
          f.lastDiskFullReport = Date.now();
          f.err(new SyncError('IO', `the disk is full: cannot write ${name} (${e.message}); retrying every ${DISK_FULL_RETRY_MS / 1000} s`));
        }
      } else {
        // A local copy of its blocks may have changed since: worked out again when needed.
        w.local = undefined;
        if (!f.closed) f.err(e);
      }
      pump(f);
      checkSynced(f);
    },
  );
}

function takeNext(w: Want): HeldWant {
  const next = w.next!;
  w.next = undefined;
  return next;
}

export async function applyEncrypted(f: FolderState, w: HeldWant): Promise<void> {
  const store = f.store!;
  const cur = f.entries.get(w.id);
  if (!w.s.del) {
    await forEachLimit(w.s.blocks, BLOCK_CONCURRENCY_PER_FILE, async ([h, len]) => {
      if (await store.has(h)) return;
      const data = await fetchBlock(f, { cipher: h, cipherLen: len, plainLen: len - 28 }, w.sources);
      if (f.closed) throw new SyncError('CLOSED', 'folder closed');
      await store.put(h, data);
      f.bytesDone += len;
      w.doneBytes += len;
    });
  }
  if (f.closed) throw new SyncError('CLOSED', 'folder closed');
  if (cur && vvCompare(w.s.vv, cur.s.vv) === 'lesser') return;
  install(f, w.s, undefined);
}

export async function applyPlain(f: FolderState, w: HeldWant): Promise<void> {
  const p = w.p!;
  const rel = p.path;
  const target = path.join(f.root, rel);
  if (!target.startsWith(f.root + path.sep)) throw new SyncError('BAD_RECORD', 'path escapes the folder');
  f.applying.add(rel);
  try {
    const cur = f.entries.get(w.id);
    const cache = f.local.get(rel);
    const cs = f.fsa.lstat(rel) ?? null; // throws ESYMLINK when a folder on the way is a symlink
    const unchangedLocally = !cs || (cache && cs.isFile() && cache.size === cs.size && cache.mtime === Math.floor(cs.mtimeMs) && cache.ino === cs.ino);
    if (p.del) {
      if (cs && cs.isFile()) {
        if (unchangedLocally || !f.canPublish) {
          try {
            f.fsa.unlink(rel);
          } catch {
            // gone already, or its folder was swapped for a symlink: nothing is done there
          }
          pruneDirs(f, rel);
        }
        // else: a local edit beats a delete; the next scan publishes it.
      }
      f.local.delete(rel);
      installRemote(f, w, p);
      f.emit('fileDeleted', { folderId: f.id, path: rel, version: w.s.hash });
      return;
    }
    // Metadata-identical content already in place (e.g. both sides made the same edit): no rewrite.
    if (cs && unchangedLocally && cur?.p && !cur.p.del && sameContent(cur.p, p) && cur.p.mtime === p.mtime && cur.p.mode === p.mode) {
      installRemote(f, w, p);
      return;
    }
    const tmpDir = path.join(f.root, META_DIR, 'tmp');
    f.fsa.mkdirp(TMP_REL); // a real folder, even if someone removed or replaced it meanwhile
    const base = w.s.hash.slice(0, 40);
    if (p.blocks.length <= 1 && p.size <= 256 * 1024) {
      // Small file fast path: one block, few syscalls, no progress file.
      let data: Buffer = Buffer.alloc(0);
      const h = p.blocks[0];
      if (h) {
        const local = await readLocalBlock(f, h, p.size);
        if (local) data = local;
        else {
          const cb = w.s.blocks[0]!;
          data = await fetchBlock(f, { plain: h, cipher: cb[0], cipherLen: cb[1], plainLen: p.size }, w.sources);
          f.bytesDone += p.size;
          w.doneBytes += p.size;
        }
      }
      if (f.closed) throw new SyncError('CLOSED', 'folder closed');
      const tmp = path.join(tmpDir, base + '.part');
      fs.writeFileSync(tmp, data, { mode: fileMode(p.mode) });
      fs.chmodSync(tmp, fileMode(p.mode));
      fs.utimesSync(tmp, p.mtime / 1000, p.mtime / 1000);
      finishFile(f, w, p, tmp, fs.statSync(tmp), cache);
      return;
    }
    const tmp = path.join(tmpDir, base + '.part');
    const progFile = path.join(tmpDir, base + '.json');
    const verified = new Set<number>();
    let fh: fs.promises.FileHandle;
    try {
      const prog = JSON.parse(await fs.promises.readFile(progFile, 'utf8')) as { hash: string; done: number[] };
      fh = await fs.promises.open(tmp, 'r+');
      if (prog.hash === w.s.hash) {
        // Re-verify what the progress file claims, cheaply, before trusting it.
        const buf = Buffer.allocUnsafe(p.bs);
        for (const i of prog.done) {
          const off = i * p.bs;
          const len = Math.min(p.bs, p.size - off);
          const { bytesRead } = await fh.read(buf, 0, len, off);
          if (bytesRead === len && sha256b64(buf.subarray(0, len)) === p.blocks[i]) verified.add(i);
        }
      }
    } catch {
      fh = await fs.promises.open(tmp, 'w+');
    }
    let dirty = false;
    let finished = false;
    let flushing: Promise<void> = Promise.resolve();
    // Flushes run one after another (the timer's and close()'s could overlap, and two writeFiles
    // on one file interleave into corrupt JSON), each to a temp name renamed over the last, so a
    // kill at any moment leaves a whole progress file.
    const flush = async (): Promise<void> => {
      flushing = flushing.catch(() => undefined).then(async () => {
        if (!dirty || finished) return;
        dirty = false;
        await fs.promises.writeFile(progFile + '.tmp', JSON.stringify({ hash: w.s.hash, done: [...verified] }));
        await fs.promises.rename(progFile + '.tmp', progFile);
      });
      await flushing;
    };
    f.progressFlushers.add(flush);
    const flushTimer = setInterval(() => void flush().catch(() => undefined), 250);
    try {
      await forEachLimit(
        p.blocks.map((h, i) => [h, i] as const),
        BLOCK_CONCURRENCY_PER_FILE,
        async ([h, i]) => {
          if (verified.has(i)) return;
          const off = i * p.bs;
          const len = Math.min(p.bs, p.size - off);
          let data = await readLocalBlock(f, h, len);
          if (!data) {
            const cb = w.s.blocks[i]!;
            data = await fetchBlock(f, { plain: h, cipher: cb[0], cipherLen: cb[1], plainLen: len }, w.sources);
            f.bytesDone += len;
            w.doneBytes += len;
          }
          if (f.closed) throw new SyncError('CLOSED', 'folder closed');
          // A write may be short on a disk that fills up: the rest goes again, and then fails
          // (ENOSPC) rather than leaving a hole in a block marked as done.
          for (let done = 0; done < len; ) {
            const { bytesWritten } = await fh.write(data, done, len - done, off + done);
            if (bytesWritten === 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
            done += bytesWritten;
          }
          verified.add(i);
          dirty = true;
        },
      );
      if (f.closed) throw new SyncError('CLOSED', 'folder closed');
      await fh.truncate(p.size);
      await fh.chmod(fileMode(p.mode));
      await fh.utimes(p.mtime / 1000, p.mtime / 1000);
      await fh.datasync();
      const st = await fh.stat();
      await fh.close();
      finished = true;
      clearInterval(flushTimer);
      f.progressFlushers.delete(flush);
      await flushing;
      await fs.promises.unlink(progFile).catch(() => undefined);
      finishFile(f, w, p, tmp, st, cache);
    } catch (e) {
      clearInterval(flushTimer);
      await flush().catch(() => undefined);
      f.progressFlushers.delete(flush);
      await fh.close().catch(() => undefined);
      throw e;
    }
  } finally {
    f.applying.delete(rel);
  }
}

/** Remove the folders above `rel` that a deletion left empty (anchored: never through a symlink). */
export function pruneDirs(f: FolderState, rel: string): void {
  for (let d = rel.slice(0, Math.max(0, rel.lastIndexOf('/'))); d; d = d.slice(0, Math.max(0, d.lastIndexOf('/')))) {
    try {
      f.fsa.rmdir(d);
    } catch {
      return;
    }
  }
}

export async function readLocalBlock(f: FolderState, h: string, len: number): Promise<Buffer | null> {
  const loc = f.blocks.byPlain(h);
  if (!loc || loc.len !== len) return null;
  try {
    const fh = await openRead(f, loc.path);
    try {
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, loc.off);
      if (bytesRead !== len || sha256b64(buf) !== h) return null;
      return buf;
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}

/** Fetch one block from the least-loaded source; verified before it is returned. */
export function fetchBlock(f: FolderState, ref: BlockRef, sources: Link[]): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    f.blockQueue.push({ ref, sources, tried: new Set(), resolve, reject });
    dispatch(f);
  });
}

export function dispatch(f: FolderState): void {
  if (!f.blockQueue.length) return;
  const keep: typeof f.blockQueue = [];
  for (const q of f.blockQueue) {
    let best: Link | null = null;
    let eligible = 0;
    for (const l of q.sources) {
      if (l.conn.closed || q.tried.has(l)) continue;
      eligible++;
      if (l.inflightBytes >= LINK_MAX_BYTES || l.inflightCount >= LINK_MAX_REQS) continue;
      if (!best || l.inflightBytes < best.inflightBytes) best = l;
    }
    if (!eligible) {
      q.reject(new SyncError('BAD_BLOCK', 'no peer could supply a verified copy of a block'));
      continue;
    }
    if (!best) {
      keep.push(q);
      continue;
    }
    request(f, best, q);
  }
  f.blockQueue = keep;
}

export function request(f: FolderState, link: Link, q: BlockQueueItem): void {
  const ref = q.ref;
  const useCipher = !f.plainLevel || link.conn.remoteLevel === 'enc' || !ref.plain;
  const id = link.nextReq++ >>> 0;
  const size = useCipher ? ref.cipherLen : ref.plainLen;
  link.inflightBytes += size;
  link.inflightCount++;
  const retry = (e: Error): void => {
    q.tried.add(link);
    if (e instanceof SyncError && (e.code === 'BAD_BLOCK' || e.code === 'DECRYPT_FAILED')) {
      f.err(e, link.conn.remoteDevice);
      // It announced a version it cannot serve (a local edit on a read-only peer,
      // or a lie): it is no source of that version, and waiting for it would stall us.
      dropSource(q.sources, link);
    }
    if (f.closed) {
      q.reject(new SyncError('CLOSED', 'folder closed'));
      return;
    }
    f.blockQueue.push(q);
    dispatch(f);
  };
  link.reqs.set(id, {
    size,
    resolve: (data) => {
      try {
        if (useCipher) {
          if (data.length !== ref.cipherLen || sha256b64(data) !== ref.cipher) throw new SyncError('BAD_BLOCK', 'ciphertext block failed its hash check');
          if (!f.plainLevel) return q.resolve(data);
          const plain = decryptBlock(f.keys, data);
          if (sha256b64(plain) !== ref.plain) throw new SyncError('BAD_BLOCK', 'decrypted block failed its hash check');
          return q.resolve(plain);
        }
        if (data.length !== ref.plainLen || sha256b64(data) !== ref.plain) throw new SyncError('BAD_BLOCK', 'block failed its hash check');
        q.resolve(data);
      } catch (e) {
        retry(e as Error);
      }
    },
    reject: retry,
  });
  link.conn.send({ type: MsgType.Request, id, kind: useCipher ? BlockKind.Cipher : BlockKind.Plain, hash: Buffer.from(useCipher ? ref.cipher : ref.plain!, 'base64'), size });
}
