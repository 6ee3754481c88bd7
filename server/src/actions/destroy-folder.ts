import fs from 'node:fs';
import path from 'node:path';
import type { Action, ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, lstatOrUndefined, refuse, stamp, deviceSafe } from './plan.js';
import { planRemoveEverywhere } from './remove-everywhere.js';
import { planReleaseShares, planStopShares, sharesUnder } from './revoke.js';
import { isIgnored } from '../index/ignore.js';

/** The note left in a destroyed folder (the spec's wording), in files/ and on every device holding the folder. */
export const DESTROYED_NOTE = 'DESTROYED.txt';

export function destroyedNoteText(now: Date): string {
  const s = stamp(now).iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return `This folder was destroyed by the owner. ${s}\n`;
}

export const destroyFolderAction: Action = {
  name: 'destroy-folder',
  summary: `wipe a folder's contents everywhere and leave the note ${DESTROYED_NOTE} (contents kept in the trash for the retention time)`,
  pathIn: 'files',
  needsDevice: false,
  needsConfirm: true,
  checkArgs: () => null,
  start(req: ValidRequest, env: ActionEnv) {
    if (!lstatOrUndefined(req.abs)?.isDirectory()) throw refuse('NOT_A_FOLDER', `files/${req.path || '.'} is not a folder.`, 'Use destroy for a single file.');
    const now = env.now();
    const children = fs
      .readdirSync(req.abs)
      .sort()
      .map((n) => (req.path === '' ? n : `${req.path}/${n}`))
      .filter((r) => !isIgnored('files', r) && r !== '.burrow'); // a device's .burrow/ (its worklist) is never wiped
    const b = new PlanBuilder(env.layout);
    // Shares of anything inside end with it; a share of the folder itself stays (the folder does).
    const ending = sharesUnder(env, children);
    planStopShares(b, ending);
    const r = planRemoveEverywhere(b, env, req, children, { kind: 'contents', originalPath: req.path, now });
    planReleaseShares(b, env, ending, path.join(env.layout.trash, r.trashId));
    const note = path.join(req.abs, DESTROYED_NOTE);
    b.add({ op: 'write', path: b.rel(note), content: destroyedNoteText(now) });
    b.endStep();
    const noted: string[] = [];
    for (const d of env.store.devices.list()) {
      const devDir = deviceSafe(env.layout.device(d.name), req.path);
      if (!devDir || !lstatOrUndefined(devDir)?.isDirectory()) continue;
      b.add({ op: 'link', from: b.rel(note), to: b.rel(path.join(devDir, DESTROYED_NOTE)) });
      b.devices.add(d.name);
      b.refresh.add(b.rel(devDir));
      noted.push(d.name);
    }
    b.refresh.add(b.rel(req.abs));
    return b.build({ ...r, endedShares: ending.map((s) => s.id), note: DESTROYED_NOTE, notedOn: noted, restoreWith: `burrow trash restore ${r.trashId}`, keptForDays: env.config.trash.retentionDays });
  },
};
