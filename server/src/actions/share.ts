import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Action, ActionEnv, Plan, ValidRequest } from './types.js';
import { PlanBuilder, walk, lstatOrUndefined, refuse, stamp } from './plan.js';
import { FILES_AREA } from '../store/entries-repo.js';
import { friendHint, leaveResultForDevice } from './share-hint.js';

export const NO_SECRET_YET = 'sync engine not running; no secret yet';

/** sha1 of a file's content (the spec's share folder name); for a folder, of its listing (paths and sizes). */
export async function shareHash(abs: string): Promise<string> {
  const st = fs.lstatSync(abs);
  const h = crypto.createHash('sha1');
  if (st.isFile()) {
    for await (const chunk of fs.createReadStream(abs, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  } else {
    for (const e of walk(abs, FILES_AREA, '')) h.update(`${e.rel}\0${e.st.isFile() ? e.st.size : 'dir'}\n`);
  }
  return h.digest('hex');
}

/** A share folder name not used before (the same content shared twice in one second gets "-2"). */
export function freeShareId(env: ActionEnv, base: string): string {
  let id = base;
  for (let i = 2; lstatOrUndefined(env.layout.share(id)) || env.shares.get(id); i++) id = `${base}-${i}`;
  return id;
}

/** Plan hard links of files/<srcRel> into shared/<id>/<basename>: the file, or the folder's subtree. */
export function planShareLinks(b: PlanBuilder, env: ActionEnv, srcRel: string, shareId: string): number {
  const src = path.join(env.layout.files, srcRel);
  const shareDir = env.layout.share(shareId);
  b.ensureDir(shareDir, env.layout.shared);
  const top = path.join(shareDir, path.basename(srcRel));
  let n = 0;
  if (fs.lstatSync(src).isFile()) {
    b.add({ op: 'link', from: b.rel(src), to: b.rel(top) });
    n++;
  } else {
    b.ensureDir(top, shareDir);
    for (const e of walk(src, FILES_AREA, '')) {
      const to = path.join(top, e.rel);
      if (e.st.isDirectory()) b.ensureDir(to, shareDir);
      else if (e.st.isFile()) {
        b.add({ op: 'link', from: b.rel(e.abs), to: b.rel(to) });
        n++;
      }
    }
  }
  b.shares.add(shareId);
  b.refresh.add(b.rel(shareDir));
  return n;
}

/** The secrets to show for a share, or an honest "none yet" when no sync engine runs. */
export function shareSecrets(env: ActionEnv, shareId: string, which: 'read-only' | 'all'): Record<string, unknown> {
  const s = env.folderSync?.secretsOf('share', shareId);
  if (!s) return { secrets: null, secretNote: NO_SECRET_YET };
  // The read-write secret stays in the secrets table: a request's result is served over HTTP
  // (GET /api/requests*), and a leaked full-access secret cannot be taken back.
  const secrets = { readOnly: s.readOnly, encrypted: s.encrypted };
  return which === 'all' ? { secrets, readWriteSecret: `on the NAS: burrow secrets share:${shareId} --read-write` } : { secrets };
}

export const shareAction: Action = {
  name: 'share',
  summary: 'share a file or folder read-only: shared/<sha1>-<YYYY-MM-DD-HHMMSS>/ with hard links, synced under its own secret',
  pathIn: 'files',
  needsDevice: false,
  needsConfirm: false,
  checkArgs: () => null,
  async start(req: ValidRequest, env: ActionEnv) {
    if (req.path === '') throw refuse('BAD_PATH', 'share needs a file or folder, not the whole store.', 'Pick what to share.');
    const st = lstatOrUndefined(req.abs);
    if (!st || (!st.isFile() && !st.isDirectory())) throw refuse('UNKNOWN_PATH', `files/${req.path} is not a file or folder.`, 'Refresh the catalogue.');
    const shareId = freeShareId(env, `${await shareHash(req.abs)}-${stamp(env.now()).compact}`);
    const b = new PlanBuilder(env.layout);
    const files = planShareLinks(b, env, req.path, shareId);
    b.endStep();
    b.add({ op: 'sync-add', kind: 'share', name: shareId, path: b.rel(env.layout.share(shareId)), mode: 'send-only' });
    b.commit.push({ db: 'share-add', id: shareId, kind: st.isFile() ? 'file' : 'folder', sourcePath: req.path, limitMb: null, createdBy: req.device, createdAt: env.now().getTime() });
    return b.build({ shareId, folder: `shared/${shareId}`, files });
  },
  cleanup(req: ValidRequest, plan: Plan, env: ActionEnv) {
    const out = shareSecrets(env, String(plan.result.shareId), 'read-only');
    const ro = (out.secrets as { readOnly?: string } | null)?.readOnly;
    if (!ro) return out;
    // The page shows the owner what to hand a friend; the device that asked gets it in its own folder.
    const friend = friendHint(ro, req.path);
    leaveResultForDevice(env, req, { shareId: plan.result.shareId, friend });
    return { ...out, friend };
  },
};
