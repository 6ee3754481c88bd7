import fs from 'node:fs';
import path from 'node:path';
import type { Action, ActionEnv, Plan, ValidRequest } from './types.js';
import { PlanBuilder, refuse, stamp } from './plan.js';
import { activeShare, checkShareId } from './revoke.js';
import { freeShareId, shareSecrets } from './share.js';

/**
 * revoke-share: the shared folder's hard links move to <name>-revoked-<dd-mm-yy>/, a new
 * folder with new secrets, so the owner can hand out the read-only or the full-access secret
 * again (the spec). The old folder stops syncing FIRST, before its files move, so the people
 * it was shared with see the share stop rather than every file being deleted.
 */
export const revokeShareAction: Action = {
  name: 'revoke-share',
  summary: 'end a shared folder: its links move to <name>-revoked-<dd-mm-yy>/ (new secrets) and the old folder stops syncing',
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
    b.ensureDir(newDir, env.layout.shared);
    for (const name of fs.readdirSync(oldDir).sort()) b.add({ op: 'rename', from: b.rel(path.join(oldDir, name)), to: b.rel(path.join(newDir, name)) });
    b.endStep();
    b.add({ op: 'rmdir', path: b.rel(oldDir), ifEmpty: true });
    b.endStep();
    b.add({ op: 'sync-add', kind: 'share', name: newId, path: b.rel(newDir), mode: 'send-receive' });
    b.shares.add(share.id);
    b.shares.add(newId);
    b.refresh.add(b.rel(oldDir));
    b.refresh.add(b.rel(newDir));
    b.commit.push(
      { db: 'share-revoke', id: share.id, revokedTo: newId, at: now.getTime() },
      { db: 'share-add', id: newId, kind: share.kind, sourcePath: share.source_path, limitMb: share.limit_mb, createdBy: req.device, createdAt: now.getTime() },
    );
    return b.build({ shareId: share.id, revokedTo: newId, folder: `shared/${newId}` });
  },
  cleanup(_req: ValidRequest, plan: Plan, env: ActionEnv) {
    return shareSecrets(env, String(plan.result.revokedTo), 'all');
  },
};
