import fs from 'node:fs';
import path from 'node:path';
import type { Action, ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, refuse, stamp } from './plan.js';
import { activeShare, checkShareId, planDropEngineDir } from './revoke.js';
import { freeShareId } from './share.js';

/**
 * revoke-share: the old folder stops syncing FIRST, before its files move, so the people it
 * was shared with see the share stop rather than every file being deleted; then its hard links
 * move to <name>-revoked-<dd-mm-yy>/ (the spec), and the engine's private .burrow-sync/ is
 * removed. The revoked share stays revoked: the renamed folder is a plain folder on the NAS, not
 * a new share and not synced (the owner shares it again with [share folder] if they want to).
 */
export const revokeShareAction: Action = {
  name: 'revoke-share',
  summary: 'end a shared folder: it stops syncing, then its links move to <name>-revoked-<dd-mm-yy>/ (not a share)',
  pathIn: 'files',
  needsDevice: false,
  pathMustExist: false,
  needsConfirm: false,
  checkArgs: (args) => checkShareId(args, 'revoke-share'),
  start(req: ValidRequest, env: ActionEnv) {
    const share = activeShare(req, env, 'folder');
    const now = env.now();
    const oldDir = env.layout.share(share.id);
    if (!fs.existsSync(oldDir)) throw refuse('SHARE_GONE', `The folder shared/${share.id} is missing.`, 'Check the NAS root; nothing was changed.');
    const newId = freeShareId(env, `${share.id}-revoked-${stamp(now).dmy}`);
    const newDir = env.layout.share(newId);
    const b = new PlanBuilder(env.layout);
    b.add({ op: 'sync-remove', kind: 'share', name: share.id });
    b.endStep();
    planDropEngineDir(b, oldDir);
    b.ensureDir(newDir, env.layout.shared);
    for (const name of fs.readdirSync(oldDir).sort()) if (name !== '.burrow-sync') b.add({ op: 'rename', from: b.rel(path.join(oldDir, name)), to: b.rel(path.join(newDir, name)) });
    b.endStep();
    b.add({ op: 'rmdir', path: b.rel(oldDir), ifEmpty: true });
    b.shares.add(share.id);
    b.refresh.add(b.rel(oldDir));
    b.refresh.add(b.rel(newDir));
    b.commit.push({ db: 'share-revoke', id: share.id, revokedTo: newId, at: now.getTime() });
    return b.build({ shareId: share.id, revokedTo: newId, folder: `shared/${newId}` });
  },
};
