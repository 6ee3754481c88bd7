import fs from 'node:fs';
import path from 'node:path';
import type { FolderSync } from '../nas-context.js';
import { writeFileAtomic } from '../fsutil/atomic-write.js';
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
  | { op: 'replace'; from: string; to: string; previousFrom: string | null }
  | { op: 'sync-add'; kind: SyncKind; name: string; path: string; mode: 'send-receive' | 'send-only' | 'receive-only' }
  | { op: 'sync-remove'; kind: SyncKind; name: string };

export interface OpEnv {
  root: string;
  folderSync: FolderSync | undefined;
}

const abs = (env: OpEnv, rel: string) => path.join(env.root, rel);

function lstat(p: string): fs.Stats | undefined {
  return fs.lstatSync(p, { throwIfNoEntry: false });
}

function stepError(code: string, message: string, hint: string, cause?: unknown): BurrowError {
  return new BurrowError(code, message, hint, { cause });
}

function tmpNameFor(p: string): string {
  return path.join(path.dirname(p), `.burrow-tmp-${path.basename(p)}`);
}

export async function applyOp(op: Op, env: OpEnv): Promise<void> {
  switch (op.op) {
    case 'mkdir': {
      const p = abs(env, op.path);
      const st = lstat(p);
      if (st?.isDirectory()) return;
      if (st) throw stepError('PATH_TAKEN', `Cannot create the folder ${op.path}: something else is already there.`, 'Move that file away and try again.');
      fs.mkdirSync(p);
      return;
    }
    case 'link': {
      const from = abs(env, op.from);
      const to = abs(env, op.to);
      try {
        fs.linkSync(from, to); // the common case, without a stat first
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOENT') throw err;
      }
      const target = lstat(to);
      const source = lstat(from);
      if (target && source && target.ino === source.ino && target.dev === source.dev) return;
      if (target) throw stepError('PATH_TAKEN', `Cannot link ${op.to}: a different file is already there.`, 'Nothing was overwritten; move that file away and try again.');
      if (!source) throw stepError('SOURCE_GONE', `Cannot link ${op.to}: ${op.from} is gone.`, 'It was moved or removed while the request ran; refresh the catalogue and try again.');
      fs.linkSync(from, to);
      return;
    }
    case 'unlink': {
      const p = abs(env, op.path);
      const st = lstat(p);
      if (!st) return;
      if (st.ino !== op.ino) throw stepError('CHANGED', `${op.path} changed while the request ran, so it was left alone.`, 'Try the request again.');
      fs.unlinkSync(p);
      return;
    }
    case 'rename': {
      const from = abs(env, op.from);
      const to = abs(env, op.to);
      if (lstat(from)) {
        if (lstat(to)) throw stepError('PATH_TAKEN', `Cannot move ${op.from} to ${op.to}: something is already there.`, 'Nothing was overwritten; move it away and try again.');
        fs.renameSync(from, to);
        return;
      }
      if (lstat(to)) return;
      throw stepError('SOURCE_GONE', `Cannot move ${op.from}: it is gone.`, 'Refresh the catalogue and try again.');
    }
    case 'rmdir': {
      try {
        fs.rmdirSync(abs(env, op.path));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code === 'ENOTEMPTY' && op.ifEmpty) return;
        throw err;
      }
      return;
    }
    case 'write':
      writeFileAtomic(abs(env, op.path), op.content, { skipIfSame: true });
      return;
    case 'replace': {
      // jdupes' order: link to a temp name beside the target, then rename over it, so the
      // target path always holds one complete version.
      const from = abs(env, op.from);
      const to = abs(env, op.to);
      const source = lstat(from);
      const target = lstat(to);
      if (source && target && source.ino === target.ino) return;
      if (!source) throw stepError('SOURCE_GONE', `Cannot relink ${op.to}: ${op.from} is gone.`, 'Try again after the next scan.');
      const tmp = tmpNameFor(to);
      fs.rmSync(tmp, { force: true });
      fs.linkSync(from, tmp);
      fs.renameSync(tmp, to);
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
  switch (op.op) {
    case 'mkdir':
      return applyOp({ op: 'rmdir', path: op.path, ifEmpty: true }, env);
    case 'link': {
      const from = lstat(abs(env, op.from));
      const to = lstat(abs(env, op.to));
      if (to && from && to.ino === from.ino) fs.unlinkSync(abs(env, op.to));
      return;
    }
    case 'unlink': {
      if (lstat(abs(env, op.path)) || op.keep === null) return;
      const keep = lstat(abs(env, op.keep));
      if (keep && keep.ino === op.ino) fs.linkSync(abs(env, op.keep), abs(env, op.path));
      return;
    }
    case 'rename':
      if (lstat(abs(env, op.to)) && !lstat(abs(env, op.from))) fs.renameSync(abs(env, op.to), abs(env, op.from));
      return;
    case 'rmdir':
      if (!lstat(abs(env, op.path))) fs.mkdirSync(abs(env, op.path));
      return;
    case 'write': {
      const p = abs(env, op.path);
      fs.rmSync(tmpNameFor(p), { force: true });
      try {
        if (fs.readFileSync(p, 'utf8') === op.content) fs.unlinkSync(p);
      } catch {
        /* never written */
      }
      return;
    }
    case 'replace':
      fs.rmSync(tmpNameFor(abs(env, op.to)), { force: true });
      if (op.previousFrom !== null) await applyOp({ op: 'replace', from: op.previousFrom, to: op.to, previousFrom: null }, env);
      return;
    case 'sync-add':
      await env.folderSync?.removeFolder(op.kind, op.name);
      return;
    case 'sync-remove':
      return; // a removed folder cannot get its old secrets back; the links were restored, which is what matters
  }
}
