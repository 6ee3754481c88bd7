import path from 'node:path';
import type { Action, ActionEnv, Plan, ValidRequest } from './types.js';
import { PlanBuilder, lstatOrUndefined, refuse } from './plan.js';
import { freeShareId, planShareLinks, shareSecrets } from './share.js';

export function checkLimit(args: Record<string, unknown>): string | null {
  const v = typeof args.limitMb === 'string' && args.limitMb.trim() !== '' ? Number(args.limitMb) : args.limitMb;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1) return 'share-folder needs a size limit in MB: args.limitMb, a whole number (-1 = no limit), e.g. {"limitMb": 500}.';
  return null;
}

/**
 * share-folder: shared/<folder name>/ with hard links of the folder, synced read-write so the
 * people it is shared with can add to it; the size limit is recorded for the sync engine.
 */
export const shareFolderAction: Action = {
  name: 'share-folder',
  summary: 'share a folder read-write with a size limit in MB (-1 = none): shared/<name>/',
  pathIn: 'files',
  needsDevice: false,
  needsConfirm: false,
  checkArgs: checkLimit,
  start(req: ValidRequest, env: ActionEnv) {
    if (!lstatOrUndefined(req.abs)?.isDirectory()) throw refuse('NOT_A_FOLDER', `files/${req.path || '.'} is not a folder.`, 'Use share for a single file.');
    const limitMb = Number(req.args.limitMb);
    const shareId = freeShareId(env, req.path === '' ? 'files' : path.basename(req.path));
    const b = new PlanBuilder(env.layout);
    const files = planShareLinks(b, env, req.path === '' ? '' : req.path, shareId);
    b.endStep();
    b.add({ op: 'sync-add', kind: 'share', name: shareId, path: b.rel(env.layout.share(shareId)), mode: 'send-receive' });
    b.commit.push({ db: 'share-add', id: shareId, kind: 'folder', sourcePath: req.path, limitMb, createdBy: req.device, createdAt: env.now().getTime() });
    return b.build({ shareId, folder: `shared/${shareId}`, files, limitMb });
  },
  cleanup(_req: ValidRequest, plan: Plan, env: ActionEnv) {
    return shareSecrets(env, String(plan.result.shareId), 'all');
  },
};
