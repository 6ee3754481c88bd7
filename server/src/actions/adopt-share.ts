import fs from 'node:fs';
import path from 'node:path';
import type { Action, ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, walk, lstatOrUndefined, sameInode, refuse, stamp } from './plan.js';
import { formatBytes } from '../util/format-bytes.js';
import { conflictName } from './adopt.js';
import { shareArea } from '../store/entries-repo.js';
import type { ShareRow } from '../store/shares-repo.js';

/** The note a friend finds in the shared folder when the NAS refused some of their files. */
export const REFUSED_NOTE = 'REFUSED-over-limit.txt';
const MIB = 1024 * 1024;

/** A shared folder's limit in bytes (share-folder's MB, like device quotas), or null for none (-1). */
export function shareLimitBytes(share: Pick<ShareRow, 'limit_mb'>): number | null {
  return share.limit_mb === null || share.limit_mb < 0 ? null : share.limit_mb * MIB;
}

/** Bytes friends added to files/ through this share that are still there (same inode at the adopted path). */
export function shareUse(env: Pick<ActionEnv, 'store' | 'layout'>, shareId: string): number {
  let used = 0;
  for (const row of env.store.shareAdoptions.list(shareId)) {
    const st = lstatOrUndefined(path.join(env.layout.files, row.path));
    if (st?.isFile() && st.ino === row.ino) used += row.bytes;
  }
  return used;
}

interface Refused {
  rel: string;
  size: number;
}

export function refusedNote(share: ShareRow, limit: number, used: number, refused: Refused[], outside: string[], when: Date): string {
  const lines = [
    `Burrow, the NAS of this shared folder, did not take some of your files (${stamp(when).iso.slice(0, 19).replace('T', ' ')} UTC).`,
    '',
  ];
  if (refused.length > 0) {
    lines.push(
      `This shared folder may add ${formatBytes(limit)} to the owner's NAS; ${formatBytes(used)} of that is used.`,
      'These files would go past that limit, so the owner does not have them:',
      ...refused.map((r) => `  ${r.rel}  (${formatBytes(r.size)})`),
      '',
    );
  }
  if (outside.length > 0) lines.push(`These files are outside the folder ${path.basename(share.source_path) || 'files'}/, so the owner does not have them:`, ...outside.map((r) => `  ${r}`), '');
  lines.push(
    'Nothing was deleted: the files stay in this folder on your side.',
    'Ask the owner for a bigger limit (or to make room on the NAS); the NAS takes the files then by itself,',
    'and this note goes away.',
    '',
  );
  return lines.join('\n');
}

/**
 * adopt-share (internal, started when the index sees a shared folder change): files a friend
 * wrote into shared/<id>/<folder>/ (the sync engine received them; nas-sync records which)
 * join files/<folder>/ at the same path, oldest first, while the bytes friends added stay
 * within the share's limit. A friend's version of a file the store holds is kept beside it
 * under a conflict name, never over it. What does not fit stays in the share, unadopted,
 * and REFUSED-over-limit.txt at the top of the share tells the friend which files and why;
 * the next change (room made, limit raised) takes them and removes the note.
 */
export const adoptShareAction: Action = {
  name: 'adopt-share',
  summary: "take what friends wrote into a shared folder into the store, within the share's limit",
  pathIn: 'files',
  needsDevice: false,
  needsConfirm: false,
  pathMustExist: false,
  internal: true,
  checkArgs: (args) => (typeof args.shareId === 'string' && args.shareId !== '' ? null : 'adopt-share needs args.shareId.'),
  start(req: ValidRequest, env: ActionEnv) {
    const L = env.layout;
    const shareId = String(req.args.shareId);
    const share = env.shares.get(shareId);
    if (!share || share.state !== 'active' || share.limit_mb === null) throw refuse('NOT_A_SHARED_FOLDER', `${shareId} is not an active shared folder.`, 'Nothing to take in.');
    const shareDir = L.share(shareId);
    const base = share.source_path === '' ? 'files' : path.basename(share.source_path);
    const b = new PlanBuilder(L);
    const now = env.now();
    const limit = shareLimitBytes(share);
    let used = shareUse(env, shareId);
    // A file taken in once is never taken again (the owner may have removed the store copy since).
    const takenOnce = new Set(env.store.shareAdoptions.list(shareId).map((r) => r.ino));
    const fromFriends = env.store.shareAdoptions.received(shareId);
    const candidates: Array<{ rel: string; abs: string; st: fs.Stats; storeRel: string }> = [];
    const outside: string[] = [];
    if (lstatOrUndefined(shareDir)?.isDirectory()) {
      for (const e of walk(shareDir, shareArea(shareId), '')) {
        if (!e.st.isFile() || e.rel === REFUSED_NOTE) continue;
        // Only what the sync engine received from a friend (this very inode); never the owner's links.
        if (fromFriends.get(e.rel) !== e.st.ino || takenOnce.has(e.st.ino)) continue;
        if (!e.rel.startsWith(base + '/')) {
          outside.push(e.rel);
          continue;
        }
        const inner = e.rel.slice(base.length + 1);
        candidates.push({ ...e, storeRel: share.source_path === '' ? inner : `${share.source_path}/${inner}` });
      }
    }
    candidates.sort((a, b2) => a.st.mtimeMs - b2.st.mtimeMs || (a.rel < b2.rel ? -1 : 1));
    const refused: Refused[] = [];
    const adopted: string[] = [];
    for (const c of candidates) {
      if (limit !== null && used + c.st.size > limit) {
        refused.push({ rel: c.rel, size: c.st.size });
        continue;
      }
      const fst = lstatOrUndefined(path.join(L.files, c.storeRel));
      if (sameInode(fst, c.st)) continue;
      const destRel = fst || b.plannedDir(path.join(L.files, c.storeRel)) ? conflictName(c.storeRel, 'shared', now) : c.storeRel;
      const destAbs = path.join(L.files, destRel);
      if (destRel !== c.storeRel && lstatOrUndefined(destAbs)) continue; // taken this second already; the next change retries
      b.ensureDir(path.dirname(destAbs), L.files);
      b.add({ op: 'link', from: b.rel(c.abs), to: b.rel(destAbs) });
      b.commit.push({ db: 'share-adopted', shareId, path: destRel, ino: c.st.ino, bytes: c.st.size, at: now.getTime() });
      b.refresh.add(b.rel(destAbs));
      b.refresh.add(b.rel(c.abs));
      adopted.push(destRel);
      used += c.st.size;
    }
    b.endStep();
    const noteAbs = path.join(shareDir, REFUSED_NOTE);
    const noteSt = lstatOrUndefined(noteAbs);
    if (refused.length > 0 || outside.length > 0) {
      const text = refusedNote(share, limit ?? 0, used, refused, outside, now);
      // Rewrite only when the refused set changed, so the note's own change settles at once.
      const old = noteSt?.isFile() ? fs.readFileSync(noteAbs, 'utf8') : null;
      if (old === null || old.slice(old.indexOf('\n')) !== text.slice(text.indexOf('\n'))) b.add({ op: 'write', path: b.rel(noteAbs), content: text });
    } else if (noteSt?.isFile()) b.add({ op: 'unlink', path: b.rel(noteAbs), ino: noteSt.ino, keep: null });
    b.shares.add(shareId);
    b.refresh.add(b.rel(noteAbs));
    return b.build({ shareId, adopted, refused: refused.map((r) => r.rel), outside, usedBytes: used, limitBytes: limit });
  },
};
