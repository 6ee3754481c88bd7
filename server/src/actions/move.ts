import type { Action, ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, refuse } from './plan.js';
import { planLinksToDevice, ensureRoom } from './get.js';
import { planUnlinkFromDevice } from './delete.js';
import { validateDeviceName } from '../devices/device-name.js';

/** The target devices of a move, from args.to (an array of names, or "a,b"). */
export function moveTargets(args: Record<string, unknown>): string[] {
  const raw = typeof args.to === 'string' ? args.to.split(',') : args.to;
  if (!Array.isArray(raw)) return [];
  return [...new Set(raw.map((x) => String(x).trim()).filter((x) => x !== ''))];
}

export const moveAction: Action = {
  name: 'move',
  summary: "move the device's links to other devices (--to a,b), and remove them from this one",
  pathIn: 'device',
  needsDevice: true,
  needsConfirm: false,
  checkArgs(args) {
    const to = moveTargets(args);
    if (to.length === 0) return 'move needs the devices to move to: args.to, e.g. {"to": ["laptop"]}.';
    for (const d of to) {
      try {
        validateDeviceName(d);
      } catch (err) {
        return (err as Error).message;
      }
    }
    return null;
  },
  async start(req: ValidRequest, env: ActionEnv) {
    const targets = moveTargets(req.args);
    for (const t of targets) {
      if (t === req.device) throw refuse('BAD_ARGS', `Cannot move from ${req.device} to itself.`, 'Pick other devices in "to".');
      if (!env.store.devices.get(t)) throw refuse('UNKNOWN_DEVICE', `There is no device named ${JSON.stringify(t)} to move to.`, 'List devices with "burrow device list".');
    }
    const b = new PlanBuilder(env.layout);
    const linked: Record<string, number> = {};
    const subscribed = env.subscriptions.list(req.device).filter((s) => s.path === req.path || req.path === '' || s.path.startsWith(req.path + '/'));
    for (const t of targets) {
      const sum = planLinksToDevice(b, env, t, req.path);
      await ensureRoom(env, t, sum.bytes, [req.path]);
      linked[t] = sum.linked + sum.alreadyThere;
      b.commit.push({ db: 'unexclude', device: t, path: req.path });
      for (const s of subscribed) b.commit.push({ db: 'subscribe', device: t, path: s.path });
    }
    // Links on the targets first, then removal from the source: never a moment with neither.
    b.endStep();
    const removed = planUnlinkFromDevice(b, env, req.device, req.path);
    return b.build({ to: targets, linked, removedFrom: req.device, removed: removed.removed, keptNotInStore: removed.keptNotInStore.slice(0, 50) });
  },
};
