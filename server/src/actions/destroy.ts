import path from 'node:path';
import type { Action, ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, lstatOrUndefined, refuse } from './plan.js';
import { planRemoveEverywhere } from './remove-everywhere.js';
import { planReleaseShares, planStopShares, sharesUnder } from './revoke.js';

export const destroyAction: Action = {
  name: 'destroy',
  summary: 'remove a file or folder from the store, every device and every share (kept in the trash for the retention time)',
  pathIn: 'files',
  needsDevice: false,
  needsConfirm: true,
  checkArgs: () => null,
  start(req: ValidRequest, env: ActionEnv) {
    if (req.path === '') throw refuse('BAD_PATH', 'destroy needs a file or folder, not the whole store.', 'Pick the file or folder to destroy.');
    const st = lstatOrUndefined(req.abs);
    if (!st || (!st.isFile() && !st.isDirectory())) throw refuse('UNKNOWN_PATH', `files/${req.path} is not a file or folder.`, 'Refresh the catalogue.');
    const now = env.now();
    const b = new PlanBuilder(env.layout);
    // Shares of what is destroyed end with it (they would stay "active" with an empty folder).
    const ending = sharesUnder(env, [req.path]);
    planStopShares(b, ending);
    const r = planRemoveEverywhere(b, env, req, [req.path], { kind: st.isFile() ? 'file' : 'dir', originalPath: req.path, now });
    planReleaseShares(b, env, ending, path.join(env.layout.trash, r.trashId));
    const days = env.config.trash.retentionDays;
    return b.build({ ...r, endedShares: ending.map((s) => s.id), restoreWith: `burrow trash restore ${r.trashId}`, keptForDays: days });
  },
};
