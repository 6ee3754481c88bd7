import path from 'node:path';
import type { Action, ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, lstatOrUndefined, refuse, deviceSafe } from './plan.js';
import { normaliseRelPath } from '../fsutil/safe-path.js';
import { isIgnored } from '../index/ignore.js';

/** A new folder's name: one path segment, with the same rules as every outside path. */
export function checkFolderName(name: unknown): string | null {
  if (typeof name !== 'string' || name.trim() === '') return 'mkdir needs the new folder\'s name: args.name, e.g. {"name": "Holidays"}.';
  try {
    const n = normaliseRelPath(name);
    if (n === '' || n.includes('/')) return `The folder name ${JSON.stringify(name)} must be one name, without "/".`;
    if (isIgnored('device:x', n) || n === '.burrow') return `The folder name ${JSON.stringify(name)} is reserved for Burrow.`;
  } catch (err) {
    return (err as Error).message;
  }
  return null;
}

export const mkdirAction: Action = {
  name: 'mkdir',
  summary: 'create a folder in the store (and on devices subscribed to the parent folder)',
  pathIn: 'files',
  needsDevice: false,
  needsConfirm: false,
  checkArgs: (args) => checkFolderName(args.name),
  start(req: ValidRequest, env: ActionEnv) {
    if (!lstatOrUndefined(req.abs)?.isDirectory()) throw refuse('NOT_A_FOLDER', `files/${req.path} is not a folder, so no folder can be created in it.`, 'Pick a folder.');
    const name = String(req.args.name);
    const rel = req.path === '' ? name : `${req.path}/${name}`;
    const target = path.join(req.abs, name);
    if (lstatOrUndefined(target)) throw refuse('PATH_TAKEN', `files/${rel} already exists.`, 'Pick another name.');
    const b = new PlanBuilder(env.layout);
    b.add({ op: 'mkdir', path: b.rel(target) });
    b.refresh.add(b.rel(target));
    const alsoOn: string[] = [];
    for (const device of env.subscriptions.subscribersOf(rel)) {
      const devParent = deviceSafe(env.layout.device(device), req.path);
      if (!devParent || !lstatOrUndefined(devParent)?.isDirectory() || lstatOrUndefined(path.join(devParent, name))) continue;
      b.add({ op: 'mkdir', path: b.rel(path.join(devParent, name)) });
      b.refresh.add(b.rel(path.join(devParent, name)));
      b.devices.add(device);
      alsoOn.push(device);
    }
    return b.build({ created: rel, alsoOn });
  },
};
