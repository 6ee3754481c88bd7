import path from 'node:path';
import type { Stats } from 'node:fs';
import type { FolderSync } from '../nas-context.js';
import { anchoredAt, type AnchoredDir } from '../anchored-fs/index.js';
import { BurrowError } from '../errors.js';

/**
 * The filesystem steps every action is made of. Each op is idempotent (running it twice, or
 * after a crash half-way, ends in the same state) and has an undo that is idempotent too, so
 * the journal can always finish or roll back. Paths are relative to the NAS root, so a journal
 * survives the root being mounted somewhere else.
 */
export type SyncKind = 'device' | 'share' | 'catalogue';
export type Op =
  | { op: 'mkdir'; path: string }
  | { op: 'link'; from: string; to: string }
  | { op: 'unlink'; path: string; ino: number; keep: string | null }
  | { op: 'rename'; from: string; to: string }
  | { op: 'rmdir'; path: string; ifEmpty?: boolean }
  | { op: 'write'; path: string; content: string }
  /** Give `path` its own inode if it shares one (the trash copy of a deduped file). */
  | { op: 'own-copy'; path: string }
  | { op: 'replace'; from: string; to: string; previousFrom: string | null }
  | { op: 'sync-add'; kind: SyncKind; name: string; path: string; mode: 'send-receive' | 'send-only' | 'receive-only' }
  | { op: 'sync-remove'; kind: SyncKind; name: string };

export interface OpEnv {
  root: string;
  folderSync: FolderSync | undefined;
  /**
   * Where given, each link step leaves the new link's lstat here (root-relative path → stats),
   * so the index refresh after the action records it instead of stat-ing it again.
   */
  linked?: Map<string, Stats>;
}

const abs = (env: OpEnv, rel: string) => path.join(env.root, rel);
/** Every step goes through anchored-fs: its parent folder is opened without following symlinks when it runs. */
const anchors = new WeakMap<OpEnv, AnchoredDir>();
function fsOf(env: OpEnv): AnchoredDir {
  let a = anchors.get(env);
  if (!a || a.base !== path.resolve(env.root)) {
    a = anchoredAt(env.root);
    anchors.set(env, a);
  }
  return a;
}

/**
 * Run one journal step's ops as an anchored-fs batch: each folder is opened (without following
 * symlinks) once for the step rather than once per op; measured in docs/ARCHITECTURE.md.
 */
export async function inStepBatch<T>(env: OpEnv, fn: () => Promise<T>): Promise<T> {
  return fsOf(env).batch(fn);
}

function stepError(code: string, message: string, hint: string, cause?: unknown): BurrowError {
  return new BurrowError(code, message, hint, { cause });
}

/** Remove a leftover temp file (never a folder: a folder by that name is the user's). */
function removeTempFile(A: AnchoredDir, rel: string): void {
  const st = A.lstat(rel);
  if (st && !st.isDirectory()) A.unlink(rel);
}

function tmpNameFor(p: string): string {
  return path.posix.join(path.posix.dirname(p), `.burrow-tmp-${path.posix.basename(p)}`);
}

export async function applyOp(op: Op, env: OpEnv): Promise<void> {
  const A = fsOf(env);
  switch (op.op) {
    case 'mkdir': {
      const st = A.lstat(op.path);
      if (st?.isDirectory()) return;
      if (st) throw stepError('PATH_TAKEN', `Cannot create the folder ${op.path}: something else is already there.`, 'Move that file away and try again.');
      A.mkdir(op.path);
      return;
    }
    case 'link': {
      try {
        const st = A.link(op.from, op.to); // the common case, without a stat first
        env.linked?.set(op.to, st);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOENT') throw err;
      }
      const target = A.lstat(op.to);
      const source = A.lstat(op.from);
      if (target && source && target.ino === source.ino && target.dev === source.dev) return;
      if (target) throw stepError('PATH_TAKEN', `Cannot link ${op.to}: a different file is already there.`, 'Nothing was overwritten; move that file away and try again.');
      if (!source) throw stepError('SOURCE_GONE', `Cannot link ${op.to}: ${op.from} is gone.`, 'It was moved or removed while the request ran; refresh the catalogue and try again.');
      env.linked?.set(op.to, A.link(op.from, op.to));
      return;
    }
    case 'unlink': {
      const st = A.lstat(op.path);
      if (!st) return;
      if (st.ino !== op.ino) throw stepError('CHANGED', `${op.path} changed while the request ran, so it was left alone.`, 'Try the request again.');
      A.unlink(op.path);
      return;
    }
    case 'rename': {
      if (A.lstat(op.from)) {
        if (A.lstat(op.to)) throw stepError('PATH_TAKEN', `Cannot move ${op.from} to ${op.to}: something is already there.`, 'Nothing was overwritten; move it away and try again.');
        A.rename(op.from, op.to);
        return;
      }
      if (A.lstat(op.to)) return;
      throw stepError('SOURCE_GONE', `Cannot move ${op.from}: it is gone.`, 'Refresh the catalogue and try again.');
    }
    case 'rmdir': {
      try {
        A.rmdir(op.path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code === 'ENOTEMPTY' && op.ifEmpty) return;
        throw err;
      }
      return;
    }
    case 'write':
      A.writeFileAtomic(op.path, op.content, { skipIfSame: true });
      return;
    case 'own-copy': {
      const st = A.lstat(op.path);
      if (!st) throw stepError('SOURCE_GONE', `Cannot copy ${op.path}: it is gone.`, 'Try the request again.');
      if (st.isFile() && st.nlink > 1) A.copyToOwnInode(op.path);
      return;
    }
    case 'replace': {
      // jdupes' order: link to a temp name beside the target, then rename over it, so the
      // target path always holds one complete version.
      const source = A.lstat(op.from);
      const target = A.lstat(op.to);
      if (source && target && source.ino === target.ino) return;
      if (!source) throw stepError('SOURCE_GONE', `Cannot relink ${op.to}: ${op.from} is gone.`, 'Try again after the next scan.');
      const tmp = tmpNameFor(op.to);
      removeTempFile(A, tmp);
      A.link(op.from, tmp);
      A.rename(tmp, op.to);
      return;
    }
    case 'sync-add':
      await env.folderSync?.addFolder(op.kind, op.name, abs(env, op.path), op.mode);
      return;
    case 'sync-remove':
      await env.folderSync?.removeFolder(op.kind, op.name);
      return;
  }
}

/** Undo one op; tolerant of the op never having run (a crash can stop anywhere). */
export async function undoOp(op: Op, env: OpEnv): Promise<void> {
  const A = fsOf(env);
  switch (op.op) {
    case 'mkdir':
      return applyOp({ op: 'rmdir', path: op.path, ifEmpty: true }, env);
    case 'link': {
      const from = A.lstat(op.from);
      const to = A.lstat(op.to);
      if (to && from && to.ino === from.ino) A.unlink(op.to);
      return;
    }
    case 'unlink': {
      if (A.lstat(op.path) || op.keep === null) return;
      const keep = A.lstat(op.keep);
      if (keep && keep.ino === op.ino) A.link(op.keep, op.path);
      return;
    }
    case 'rename':
      if (A.lstat(op.to) && !A.lstat(op.from)) A.rename(op.to, op.from);
      return;
    case 'rmdir':
      if (!A.lstat(op.path)) A.mkdir(op.path);
      return;
    case 'write': {
      removeTempFile(A, tmpNameFor(op.path));
      try {
        if (A.readFile(op.path).toString('utf8') === op.content) A.unlink(op.path);
      } catch {
        /* never written */
      }
      return;
    }
    case 'own-copy':
      return; // the copy holds the same bytes; a later dedupe links it again
    case 'replace':
      removeTempFile(A, tmpNameFor(op.to));
      if (op.previousFrom !== null) await applyOp({ op: 'replace', from: op.previousFrom, to: op.to, previousFrom: null }, env);
      return;
    case 'sync-add':
      await env.folderSync?.removeFolder(op.kind, op.name);
      return;
    case 'sync-remove':
      return; // a removed folder cannot get its old secrets back; the links were restored, which is what matters
  }
}
