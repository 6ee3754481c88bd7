import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

/**
 * Filesystem steps that can never leave a base folder, whatever happens to the paths while they run.
 *
 * A path checked at one moment and used at the next (check-then-act) can be redirected in between:
 * someone with write access to a folder under the base swaps it for a symlink to an outside folder.
 * So no step here acts on a path string. Each step opens the base, then every folder on the way with
 * O_DIRECTORY | O_NOFOLLOW (O_PATH on Linux, so no read permission is needed), each one relative to the
 * fd of the folder before it, and finally runs the system call on `/proc/self/fd/<parent fd>/<name>`.
 * The kernel resolves that magic link to the very folder that was opened, and `<name>` is one plain
 * name that link/rename/unlink/mkdir/rmdir/lstat and O_NOFOLLOW opens never follow. A symlink on the
 * way fails the step with code ESYMLINK, naming the component; nothing is done.
 *
 * The base itself is trusted (the admin chose it) and may sit behind symlinks. This module imports
 * only node: built-ins, so the NAS and the sync engine can both use it.
 */

/** Linux's O_PATH (Node does not export it); the same value on x86-64, arm and arm64. */
export const O_PATH = 0o10000000;

const C = fs.constants;
const HAS_PROC_FD = process.platform === 'linux' && fs.existsSync('/proc/self/fd');
const DIR_FLAGS = (HAS_PROC_FD ? O_PATH : C.O_RDONLY) | C.O_DIRECTORY | C.O_NOFOLLOW;

/** How steps are anchored on this system: 'proc-fd' (Linux), or 'checked-path' (a weaker fallback elsewhere). */
export const anchorMode: 'proc-fd' | 'checked-path' = HAS_PROC_FD ? 'proc-fd' : 'checked-path';

/** A refused step. `code` is ESYMLINK (a symlink on the way) or EBADNAME (the relative path is not plain). */
export class AnchoredFsError extends Error {
  readonly code: 'ESYMLINK' | 'EBADNAME';
  /** The path (relative to the base) of the component that was refused. */
  readonly path: string;
  constructor(code: 'ESYMLINK' | 'EBADNAME', rel: string, message: string) {
    super(message);
    this.name = 'AnchoredFsError';
    this.code = code;
    this.path = rel;
  }
}

/** Split a relative path into plain names; '' is the base itself. Refuses '', '.', '..', NUL and absolute paths. */
export function splitRel(rel: string): string[] {
  if (rel === '') return [];
  if (typeof rel !== 'string' || rel.startsWith('/') || rel.includes('\0')) throw new AnchoredFsError('EBADNAME', String(rel), `${JSON.stringify(rel)} is not a plain relative path.`);
  const parts = rel.split('/');
  for (const p of parts)
    if (p === '' || p === '.' || p === '..') throw new AnchoredFsError('EBADNAME', rel, `${JSON.stringify(rel)} is not a plain relative path (empty, "." or ".." segment).`);
  return parts;
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  const e = new Error(message) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

/** A folder held open for one step: `at(name)` is a path that resolves through the held fd. */
interface Held {
  fd: number;
  at(name: string): string;
  /** Close it, unless a batch keeps it for the next steps. */
  release(): void;
}

/** A folder a batch keeps open: `pins` counts the steps using it right now (never closed while pinned). */
interface Kept {
  fd: number;
  pins: number;
  gone: boolean;
}

/** Folders a batch keeps open at most (well under the usual 1,024 open-file limit). */
const BATCH_MAX_DIRS = 128;

export interface WriteOpts {
  /** Return false without writing when the file already holds exactly these bytes. */
  skipIfSame?: boolean;
  mode?: number;
  /** Create missing parent folders (default true, like the plain atomic writer). */
  mkdirs?: boolean;
}

/**
 * A base folder and the steps that act inside it. Paths are relative to the base, '/'-separated,
 * made of plain names. The API only grows: add methods, never rename or change one.
 */
export class AnchoredDir {
  readonly base: string;
  /** During a batch: folders opened (without following symlinks) by earlier steps of the batch, by path. */
  private kept: Map<string, Kept> | null = null;
  private batchDepth = 0;

  constructor(base: string) {
    this.base = path.resolve(base);
  }

  /** `abs` relative to the base ('' for the base), or an EBADNAME error when it is outside. */
  relOf(abs: string): string {
    const r = path.relative(this.base, path.resolve(abs));
    if (r === '') return '';
    if (r.startsWith('..') || path.isAbsolute(r)) throw new AnchoredFsError('EBADNAME', abs, `${abs} is not inside ${this.base}.`);
    return r.split(path.sep).join('/');
  }

  // ---- batches: one journal step's folders opened once ----

  /**
   * Start a batch: until endBatch, a folder opened for a step stays open for the next steps, so a
   * 2,000-link step walks each folder once instead of once per link. Each folder was still reached
   * without following a symlink, and a step acts in that very folder; a swap after it was opened
   * cannot redirect the step (at worst it lands in the real folder, renamed elsewhere inside the
   * root). A folder this object renames or removes is dropped from the batch. Batches nest.
   */
  beginBatch(): void {
    this.batchDepth++;
    this.kept ??= new Map();
  }

  endBatch(): void {
    if (this.batchDepth === 0) return;
    if (--this.batchDepth > 0) return;
    const kept = this.kept;
    this.kept = null;
    for (const k of kept?.values() ?? []) {
      k.gone = true;
      if (k.pins === 0) fs.closeSync(k.fd);
    }
  }

  /** Run `fn` inside a batch. */
  async batch<T>(fn: () => T | Promise<T>): Promise<T> {
    this.beginBatch();
    try {
      return await fn();
    } finally {
      this.endBatch();
    }
  }

  /** Drop `rel` and every folder under it from the batch (it was renamed or removed). */
  private forget(rel: string): void {
    if (!this.kept) return;
    for (const [key, k] of this.kept) {
      if (key !== rel && !key.startsWith(rel + '/')) continue;
      this.kept.delete(key);
      k.gone = true;
      if (k.pins === 0) fs.closeSync(k.fd);
    }
  }

  // ---- the core: hold a folder open for the length of one step ----

  private view(fd: number, abs: string, release: () => void): Held {
    return HAS_PROC_FD ? { fd, at: (name) => `/proc/self/fd/${fd}/${name}`, release } : { fd, at: (name) => path.join(abs, name), release };
  }

  /** Hold an fd this call opened: a batch keeps it under `key`, otherwise release closes it. */
  private own(fd: number, abs: string, key: string): Held {
    if (!this.kept) return this.view(fd, abs, () => fs.closeSync(fd));
    const k: Kept = { fd, pins: 0, gone: false };
    const old = this.kept.get(key);
    if (old) {
      old.gone = true;
      if (old.pins === 0) fs.closeSync(old.fd);
    }
    this.kept.set(key, k);
    const held = this.pin(k, abs); // pinned before trimming, so it is never the one closed
    this.trimBatch();
    return held;
  }

  private pin(k: Kept, abs: string): Held {
    k.pins++;
    return this.view(k.fd, abs, () => {
      if (--k.pins === 0 && k.gone) fs.closeSync(k.fd);
    });
  }

  private trimBatch(): void {
    if (!this.kept || this.kept.size <= BATCH_MAX_DIRS) return;
    for (const [key, k] of this.kept) {
      if (this.kept.size <= BATCH_MAX_DIRS) break;
      if (k.pins > 0) continue;
      this.kept.delete(key);
      fs.closeSync(k.fd);
    }
  }

  /** Open the folder `parts` (relative to the base) without following any symlink on the way. */
  private openDir(parts: string[]): Held {
    let start = 0;
    let cur: Held | undefined;
    if (this.kept) {
      for (let k = parts.length; k >= 0; k--) {
        const key = parts.slice(0, k).join('/');
        const hit = this.kept.get(key);
        if (!hit) continue;
        this.kept.delete(key); // most recently used last
        this.kept.set(key, hit);
        cur = this.pin(hit, path.join(this.base, key));
        start = k;
        break;
      }
    }
    // The base is trusted (the admin chose it): its own path may go through symlinks.
    cur ??= this.own(fs.openSync(this.base, (HAS_PROC_FD ? O_PATH : C.O_RDONLY) | C.O_DIRECTORY), this.base, '');
    let abs = path.join(this.base, ...parts.slice(0, start));
    try {
      for (let i = start; i < parts.length; i++) {
        const name = parts[i]!;
        const rel = parts.slice(0, i + 1).join('/');
        const p = cur.at(name);
        let fd: number;
        try {
          fd = fs.openSync(p, DIR_FLAGS);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOTDIR' || code === 'ELOOP') {
            if (fs.lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink())
              throw new AnchoredFsError('ESYMLINK', rel, `"${rel}" is a symbolic link; Burrow never acts through one, so nothing was done there.`);
            throw errno('ENOTDIR', `"${rel}" is not a folder.`);
          }
          throw err;
        }
        cur.release();
        abs = path.join(abs, name);
        cur = this.own(fd, abs, rel);
        if (!HAS_PROC_FD && fs.lstatSync(abs).isSymbolicLink()) throw new AnchoredFsError('ESYMLINK', rel, `"${rel}" is a symbolic link.`);
      }
      return cur;
    } catch (err) {
      cur.release();
      throw err;
    }
  }

  /** Hold the parent of `rel` open and run `fn` on the anchored path of its last name. */
  withParent<T>(rel: string, fn: (at: string, name: string) => T): T {
    return this.inParent(rel, fn, true); // `fn` may rename or remove a folder: a batch forgets it
  }

  /** withParent for this module's own steps: `changesFolders` says whether a batch must forget `rel`. */
  private inParent<T>(rel: string, fn: (at: string, name: string) => T, changesFolders: boolean): T {
    const parts = splitRel(rel);
    if (parts.length === 0) throw new AnchoredFsError('EBADNAME', rel, 'This step needs a name inside the base, not the base itself.');
    const name = parts.pop()!;
    const dir = this.openDir(parts);
    try {
      return fn(dir.at(name), name);
    } finally {
      dir.release();
      if (changesFolders) this.forget(rel);
    }
  }

  /** The same, keeping the parent held across an await (for fs.promises steps). */
  async withParentAsync<T>(rel: string, fn: (at: string, name: string) => Promise<T>): Promise<T> {
    const parts = splitRel(rel);
    if (parts.length === 0) throw new AnchoredFsError('EBADNAME', rel, 'This step needs a name inside the base, not the base itself.');
    const name = parts.pop()!;
    const dir = this.openDir(parts);
    try {
      return await fn(dir.at(name), name);
    } finally {
      dir.release();
      this.forget(rel);
    }
  }

  /** Hold the folder `rel` itself open ('' = the base) and run `fn` on a path that resolves to it. */
  withDir<T>(rel: string, fn: (at: (name: string) => string, self: string) => T): T {
    const dir = this.openDir(splitRel(rel));
    try {
      return fn(dir.at, HAS_PROC_FD ? `/proc/self/fd/${dir.fd}` : path.join(this.base, rel));
    } finally {
      dir.release();
    }
  }

  /** Two parents held at once (link and rename across folders). */
  private withTwo<T>(a: string, b: string, changesFolders: boolean, fn: (atA: string, atB: string) => T): T {
    return this.inParent(a, (atA) => this.inParent(b, (atB) => fn(atA, atB), changesFolders), changesFolders);
  }

  // ---- reads ----

  /** lstat of `rel` (never following it), or undefined when it or a folder on the way is missing. */
  lstat(rel: string): fs.Stats | undefined {
    if (rel === '') return fs.lstatSync(this.base, { throwIfNoEntry: false });
    try {
      return this.inParent(rel, (at) => fs.lstatSync(at, { throwIfNoEntry: false }), false);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  exists(rel: string): boolean {
    return this.lstat(rel) !== undefined;
  }

  readdir(rel: string): string[] {
    return this.withDir(rel, (_at, self) => fs.readdirSync(self));
  }

  readFile(rel: string): Buffer {
    const fd = this.openFile(rel, C.O_RDONLY);
    try {
      return fs.readFileSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** open(2) of `rel` with O_NOFOLLOW added: a symlink as the last name fails with ELOOP. The caller closes the fd. */
  openFile(rel: string, flags: number, mode?: number): number {
    return this.inParent(rel, (at) => fs.openSync(at, flags | C.O_NOFOLLOW, mode), false);
  }

  // ---- changes ----

  mkdir(rel: string, mode?: number): void {
    this.inParent(rel, (at) => fs.mkdirSync(at, mode === undefined ? undefined : { mode }), true);
  }

  /** Create `rel` and any missing folder above it, one anchored mkdir each. A file or symlink on the way fails. */
  mkdirp(rel: string, mode?: number): void {
    const parts = splitRel(rel);
    for (let i = 1; i <= parts.length; i++) {
      const r = parts.slice(0, i).join('/');
      try {
        this.mkdir(r, mode);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const st = this.lstat(r);
        if (st?.isSymbolicLink()) throw new AnchoredFsError('ESYMLINK', r, `"${r}" is a symbolic link; Burrow never acts through one, so nothing was done there.`);
        if (!st?.isDirectory()) throw errno('ENOTDIR', `"${r}" is not a folder.`);
      }
    }
  }

  /**
   * Hard-link `fromRel` to `toRel`. link(2) never follows a symlink as the source's last name, but a
   * link to a symlink would carry that symlink into a synced folder: such a result is removed and refused.
   */
  link(fromRel: string, toRel: string): fs.Stats {
    return this.withTwo(fromRel, toRel, false, (from, to) => {
      fs.linkSync(from, to);
      const st = fs.lstatSync(to);
      if (!st.isFile()) {
        fs.unlinkSync(to);
        throw new AnchoredFsError('ESYMLINK', fromRel, `"${fromRel}" is not a regular file (a symbolic link?); it was not linked.`);
      }
      return st; // the new link as it was made: the index can record it without another lstat
    });
  }

  rename(fromRel: string, toRel: string): void {
    this.withTwo(fromRel, toRel, true, (from, to) => fs.renameSync(from, to));
  }

  /** link(2) on libuv's pool (several can overlap); both parents stay held until it ends. No symlink check of the source: callers compare inodes. */
  async linkAsync(fromRel: string, toRel: string): Promise<void> {
    await this.withParentAsync(fromRel, (from) => this.withParentAsync(toRel, (to) => fs.promises.link(from, to)));
  }

  /** rename(2) on libuv's pool; both parents stay held until it ends. */
  async renameAsync(fromRel: string, toRel: string): Promise<void> {
    await this.withParentAsync(fromRel, (from) => this.withParentAsync(toRel, (to) => fs.promises.rename(from, to)));
  }

  unlink(rel: string): void {
    this.inParent(rel, (at) => fs.unlinkSync(at), false);
  }

  rmdir(rel: string): void {
    this.inParent(rel, (at) => fs.rmdirSync(at), true);
  }

  /** Remove `rel` and everything under it (rm -rf), never following a symlink; missing is fine. */
  rmTree(rel: string): void {
    try {
      this.inParent(rel, (at) => removeAt(at), true);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /**
   * Give `rel` its own inode holding the same bytes (mode and mtime kept): copy into a temp file
   * beside it (O_EXCL | O_NOFOLLOW in the held parent), fsync, rename over `rel`. Other hard
   * links of the old inode keep the old inode; `rel` no longer changes when they are edited.
   */
  copyToOwnInode(rel: string): void {
    const src = this.openFile(rel, C.O_RDONLY);
    try {
      const st = fs.fstatSync(src);
      this.inParent(rel, (at, name) => {
        replaceViaTemp(at, name, st.mode & 0o7777, (fd) => {
          const buf = Buffer.allocUnsafe(1 << 20);
          let pos = 0;
          for (;;) {
            const n = fs.readSync(src, buf, 0, buf.length, pos);
            if (n === 0) break;
            writeAll(fd, buf, n);
            pos += n;
          }
          fs.futimesSync(fd, st.atime, st.mtime);
        });
      }, false);
    } finally {
      fs.closeSync(src);
    }
  }

  /**
   * Write a file so readers only ever see the old or the new content: a temp file beside it
   * (created O_EXCL | O_NOFOLLOW in the held parent), fsync, rename. Returns false without writing
   * when `skipIfSame` and the content is identical.
   */
  writeFileAtomic(rel: string, data: string | Buffer, opts: WriteOpts = {}): boolean {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const parts = splitRel(rel);
    if (parts.length === 0) throw new AnchoredFsError('EBADNAME', rel, 'A file needs a name.');
    if ((opts.mkdirs ?? true) && parts.length > 1) this.mkdirp(parts.slice(0, -1).join('/'));
    return this.inParent(rel, (at, name) => {
      if (opts.skipIfSame) {
        try {
          const fd = fs.openSync(at, C.O_RDONLY | C.O_NOFOLLOW);
          try {
            if (fs.readFileSync(fd).equals(buf)) return false;
          } finally {
            fs.closeSync(fd);
          }
        } catch {
          /* missing, or not a plain file: write it */
        }
      }
      replaceViaTemp(at, name, opts.mode ?? 0o644, (fd) => writeAll(fd, buf, buf.length));
      return true;
    }, false);
  }
}

/**
 * Replace `at` (whose last segment is `name`) so readers only ever see the old or the new file:
 * fill a temp file created O_EXCL | O_NOFOLLOW beside it, fsync, rename over; the temp file never
 * survives a failure.
 */
function replaceViaTemp(at: string, name: string, mode: number, fill: (fd: number) => void): void {
  const tmp = at.slice(0, at.length - name.length) + `.${name.slice(0, 180)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  const fd = fs.openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, mode);
  try {
    try {
      fill(fd);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, at);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** A write may be short (a signal, a full disk that frees up); loop until all `n` bytes are down. */
function writeAll(fd: number, buf: Buffer, n: number): void {
  let off = 0;
  while (off < n) off += fs.writeSync(fd, buf, off, n - off);
}

/** rm -rf of an anchored path: folders are opened O_NOFOLLOW and emptied through their own fd. */
function removeAt(at: string): void {
  const st = fs.lstatSync(at, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory()) {
    fs.unlinkSync(at);
    return;
  }
  const fd = fs.openSync(at, DIR_FLAGS);
  try {
    const self = HAS_PROC_FD ? `/proc/self/fd/${fd}` : at;
    for (const name of fs.readdirSync(self)) removeAt(`${self}/${name}`);
  } finally {
    fs.closeSync(fd);
  }
  fs.rmdirSync(at);
}

/** The anchored steps for one base folder. */
export function anchoredAt(base: string): AnchoredDir {
  return new AnchoredDir(base);
}
