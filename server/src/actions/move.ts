import path from 'node:path';
import type { Action, ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, refuse, walk, lstatOrUndefined, sameInode } from './plan.js';
import { planLinksToDevice, ensureRoom } from './get.js';
import { validateDeviceName } from '../devices/device-name.js';
import { deviceArea } from '../store/entries-repo.js';

/** The target devices of a move, from args.to (an array of names, or "a,b"). */
export function moveTargets(args: Record<string, unknown>): string[] {
  const raw = typeof args.to === 'string' ? args.to.split(',') : args.to;
  if (!Array.isArray(raw)) return [];
  return [...new Set(raw.map((x) => String(x).trim()).filter((x) => x !== ''))];
}

/** The source's files under `rel` that are links to the store copy at the same path: what a move takes off it. */
export function sourceFilesInStore(env: ActionEnv, device: string, rel: string): string[] {
  const devRoot = env.layout.device(device);
  const abs = rel === '' ? devRoot : path.join(devRoot, rel);
  const top = lstatOrUndefined(abs);
  const entries = top?.isDirectory() ? [...walk(abs, deviceArea(device), rel)] : top ? [{ rel, abs, st: top }] : [];
  return entries.filter((e) => e.st.isFile() && sameInode(lstatOrUndefined(path.join(env.layout.files, e.rel)), e.st)).map((e) => e.rel);
}

export function waitingNote(targets: string[], source: string, files: number): string {
  return `waiting for ${targets.join(' and ')} to hold ${files === 1 ? 'the file' : `all ${files} files`}; it stays on ${source} until then`;
}

/**
 * move, stage 1: link the files to every target device (the journal's plan), then keep the
 * request running with a move_waits row. The source's links go only once every target holds
 * the complete file (nas-sync/move-waiter.ts, then the internal move-finish action); a target
 * that never gets it leaves the source as it was, and the request says why.
 */
export const moveAction: Action = {
  name: 'move',
  summary: "move the device's links to other devices (--to a,b); they leave this one once the others hold them",
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
    const skipped = new Set<string>();
    const subscribed = env.subscriptions.list(req.device).filter((s) => s.path === req.path || req.path === '' || s.path.startsWith(req.path + '/'));
    for (const t of targets) {
      const sum = planLinksToDevice(b, env, t, req.path);
      await ensureRoom(env, t, sum.bytes, [req.path]);
      linked[t] = sum.linked + sum.alreadyThere;
      for (const s of sum.skipped) skipped.add(s);
      b.commit.push({ db: 'unexclude', device: t, path: req.path });
      for (const s of subscribed) b.commit.push({ db: 'subscribe', device: t, path: s.path });
    }
    // A path a target holds a different file at never reaches it: the source keeps that one.
    const leaving = sourceFilesInStore(env, req.device, req.path).filter((f) => ![...skipped].some((s) => f === s || f.startsWith(s + '/')));
    const kept = [...skipped].slice(0, 50);
    const now = env.now().getTime();
    if (leaving.length > 0)
      b.commit.push({ db: 'move-wait', requestId: req.id, source: req.device, path: req.path, targets, files: leaving, deadlineAt: now + env.config.move.waitDays * 86_400_000 });
    const plan = b.build({ to: targets, linked, from: req.device, leaving: leaving.length, ...(kept.length ? { keptOnSource: kept } : {}) });
    return leaving.length > 0 ? { ...plan, holdOpen: waitingNote(targets, req.device, leaving.length) } : plan;
  },
};
