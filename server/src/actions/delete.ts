import path from 'node:path';
import type { Action, ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, walk, lstatOrUndefined, sameInode, refuse } from './plan.js';
import { deviceArea } from '../store/entries-repo.js';

export interface UnlinkSummary {
  removed: number;
  keptNotInStore: string[];
}

/**
 * Plan removing a device's links under devices/<device>/<rel>, leaving files/ untouched.
 * Only links to the store copy at the same path are removed: a file the store does not hold
 * (not adopted yet, or a conflicting edit) would be lost, so it is kept and reported.
 * Folders left empty are removed, the device's own folder never.
 */
export function planUnlinkFromDevice(b: PlanBuilder, env: ActionEnv, device: string, rel: string): UnlinkSummary {
  const devRoot = env.layout.device(device);
  const abs = rel === '' ? devRoot : path.join(devRoot, rel);
  const top = lstatOrUndefined(abs);
  if (!top) throw refuse('UNKNOWN_PATH', `${device} has no ${rel}.`, 'Refresh the catalogue; the device may have deleted it already.');
  const sum: UnlinkSummary = { removed: 0, keptNotInStore: [] };
  const unlinkOne = (r: string, a: string, st: import('node:fs').Stats) => {
    const storeCopy = path.join(env.layout.files, r);
    if (sameInode(lstatOrUndefined(storeCopy), st)) {
      b.add({ op: 'unlink', path: b.rel(a), ino: st.ino, keep: b.rel(storeCopy) });
      sum.removed++;
    } else sum.keptNotInStore.push(r);
  };
  if (top.isDirectory()) {
    const dirs: string[] = rel === '' ? [] : [abs];
    for (const e of walk(abs, deviceArea(device), rel)) {
      if (e.st.isDirectory()) dirs.push(e.abs);
      else if (e.st.isFile()) unlinkOne(e.rel, e.abs, e.st);
      else sum.keptNotInStore.push(e.rel);
    }
    b.endStep();
    for (const d of dirs.reverse()) b.add({ op: 'rmdir', path: b.rel(d), ifEmpty: true });
  } else if (top.isFile()) unlinkOne(rel, abs, top);
  else sum.keptNotInStore.push(rel);
  b.devices.add(device);
  b.refresh.add(b.rel(abs));
  b.commit.push({ db: 'unsubscribe', device, path: rel }, { db: 'forget-links', device, path: rel });
  // Inside a folder the device is subscribed to, a deleted path must not be linked again.
  if (rel !== '' && env.subscriptions.subscribersOf(rel).includes(device)) b.commit.push({ db: 'exclude', device, path: rel });
  return sum;
}

export const deleteAction: Action = {
  name: 'delete',
  summary: "remove the device's copy (its hard links); the store keeps the file",
  pathIn: 'device',
  needsDevice: true,
  needsConfirm: false,
  checkArgs: () => null,
  start(req: ValidRequest, env: ActionEnv) {
    const b = new PlanBuilder(env.layout);
    const sum = planUnlinkFromDevice(b, env, req.device, req.path);
    return b.build({ removed: sum.removed, keptNotInStore: sum.keptNotInStore.slice(0, 50) });
  },
};
