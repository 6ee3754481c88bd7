import fs from 'node:fs';
import path from 'node:path';
import type { Action, ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, walk, lstatOrUndefined, sameInode, refuse } from './plan.js';
import { shareArea } from '../store/entries-repo.js';
import type { ShareRow } from '../store/shares-repo.js';

/** The sync engine's private folder inside every folder it syncs (its META_DIR; index/ignore.ts skips it too). */
const ENGINE_DIR = '.burrow-sync';

export function checkShareId(args: Record<string, unknown>, action: string): string | null {
  const id = args.shareId;
  if (typeof id !== 'string' || id === '') return `${action} needs the share to revoke: args.shareId, e.g. {"shareId": "c191…-2013-10-28-235959"}.`;
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(id) || /^\.+$/.test(id)) return `${JSON.stringify(id)} is not a share id.`;
  return null;
}

/** The active share named in args.shareId, which must be a share of req.path. */
export function activeShare(req: ValidRequest, env: ActionEnv, kind: 'file' | 'folder' | 'any'): ShareRow {
  const id = String(req.args.shareId);
  const share = env.shares.get(id);
  if (!share) throw refuse('UNKNOWN_SHARE', `There is no share ${JSON.stringify(id)}.`, 'List shares with "burrow share --list".');
  if (share.state !== 'active') throw refuse('ALREADY_REVOKED', `The share ${id} was already revoked.`, 'Nothing to do.');
  if (share.source_path !== req.path) throw refuse('WRONG_SHARE', `The share ${id} is of files/${share.source_path}, not files/${req.path}.`, 'Revoke it from the catalogue entry it belongs to.');
  if (kind === 'folder' && share.limit_mb === null) throw refuse('WRONG_SHARE', `${id} is a read-only share; use revoke for it.`, 'revoke-share is for folders shared with share-folder.');
  if (kind !== 'folder' && kind !== 'any' && share.limit_mb !== null) throw refuse('WRONG_SHARE', `${id} is a shared folder; use revoke-share for it.`, 'revoke is for shares made with share.');
  return share;
}

/**
 * Plan removing a share folder's content: a hard link whose store copy is still at the
 * matching path is unlinked; anything else (the store copy is gone, or someone added a file)
 * would be lost, so it is moved into the trash under `trashDir`.
 */
export function planEmptyShare(b: PlanBuilder, env: ActionEnv, share: ShareRow, trashDir: string): { unlinked: number; trashed: number } {
  const dir = env.layout.share(share.id);
  const srcBase = path.join(env.layout.files, share.source_path);
  const top = path.basename(share.source_path);
  const dirs: string[] = [];
  let unlinked = 0;
  let trashed = 0;
  for (const e of walk(dir, shareArea(share.id), '')) {
    if (e.st.isDirectory()) {
      dirs.push(e.abs);
      continue;
    }
    const storeCopy = e.rel === top ? srcBase : e.rel.startsWith(top + '/') ? path.join(srcBase, e.rel.slice(top.length + 1)) : null;
    if (e.st.isFile() && storeCopy && sameInode(lstatOrUndefined(storeCopy), e.st)) {
      b.add({ op: 'unlink', path: b.rel(e.abs), ino: e.st.ino, keep: b.rel(storeCopy) });
      unlinked++;
    } else {
      const to = path.join(trashDir, 'shares', share.id, e.rel);
      b.ensureDir(path.dirname(to), env.layout.state);
      b.add({ op: 'rename', from: b.rel(e.abs), to: b.rel(to) });
      trashed++;
    }
  }
  b.endStep();
  planDropEngineDir(b, dir);
  for (const d of dirs.sort((x, y) => y.length - x.length)) b.add({ op: 'rmdir', path: b.rel(d), ifEmpty: true });
  b.add({ op: 'rmdir', path: b.rel(dir), ifEmpty: true });
  b.shares.add(share.id);
  b.refresh.add(b.rel(dir));
  return { unlinked, trashed };
}

/**
 * Plan removing the sync engine's private folder (.burrow-sync/: temp files of transfers) from a
 * folder the engine no longer syncs; run it after the folder's sync-remove. Nothing in it is user data.
 */
export function planDropEngineDir(b: PlanBuilder, folder: string): void {
  const top = path.join(folder, ENGINE_DIR);
  if (!lstatOrUndefined(top)?.isDirectory()) return;
  const dirs: string[] = [top];
  for (let i = 0; i < dirs.length; i++) {
    for (const e of fs.readdirSync(dirs[i]!, { withFileTypes: true })) {
      const abs = path.join(dirs[i]!, e.name);
      const st = lstatOrUndefined(abs);
      if (!st) continue;
      if (st.isDirectory()) dirs.push(abs);
      else b.add({ op: 'unlink', path: b.rel(abs), ino: st.ino, keep: null });
    }
  }
  b.endStep();
  for (const d of dirs.reverse()) b.add({ op: 'rmdir', path: b.rel(d), ifEmpty: true });
  b.endStep();
}

/** Active shares of these store paths or of anything inside them: what a destroy takes away. */
export function sharesUnder(env: ActionEnv, items: string[]): ShareRow[] {
  return env.shares.list({ active: true }).filter((s) => items.some((p) => s.source_path === p || s.source_path.startsWith(p + '/')));
}

/** A share whose files are destroyed ends: it stops syncing first (so the engine lets go of its folder). */
export function planStopShares(b: PlanBuilder, shares: ShareRow[]): void {
  if (shares.length === 0) return;
  for (const s of shares) b.add({ op: 'sync-remove', kind: 'share', name: s.id });
  b.endStep();
}

/** Then, after the destroy unlinked the store's links: the share folder goes, leftovers to the destroy's trash, and the share is marked ended. */
export function planReleaseShares(b: PlanBuilder, env: ActionEnv, shares: ShareRow[], trashDir: string): void {
  for (const s of shares) {
    planEmptyShare(b, env, s, trashDir);
    b.endStep();
    b.commit.push({ db: 'share-end', id: s.id, reason: s.kind === 'file' ? 'file destroyed' : 'folder destroyed', at: env.now().getTime() });
  }
}

export const revokeAction: Action = {
  name: 'revoke',
  summary: 'end a share: FIRST stop syncing it, THEN unlink its files, THEN remove its folder',
  pathIn: 'files',
  needsDevice: false,
  pathMustExist: false,
  needsConfirm: false,
  checkArgs: (args) => checkShareId(args, 'revoke'),
  start(req: ValidRequest, env: ActionEnv) {
    const share = activeShare(req, env, 'file');
    const b = new PlanBuilder(env.layout);
    // The spec's order: the folder leaves the sync list before its files go, so no peer sees deletions.
    b.add({ op: 'sync-remove', kind: 'share', name: share.id });
    b.endStep();
    const trashId = `revoked-${share.id}`;
    const r = planEmptyShare(b, env, share, path.join(env.layout.trash, trashId));
    b.commit.push({ db: 'share-revoke', id: share.id, revokedTo: null, at: env.now().getTime() });
    if (r.trashed > 0) b.commit.push({ db: 'trash-add', id: trashId, originalPath: share.source_path, kind: 'share-leftovers', bytes: 0, files: r.trashed, requestId: req.id, at: env.now().getTime() });
    return b.build({ shareId: share.id, ...r });
  },
};
