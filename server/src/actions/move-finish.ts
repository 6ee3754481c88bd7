import path from 'node:path';
import type { Action, ActionEnv, ValidRequest } from './types.js';
import { PlanBuilder, refuse, walk, lstatOrUndefined, sameInode, deviceSafe } from './plan.js';
import { deviceArea } from '../store/entries-repo.js';

/** The id of the request that finishes a move: one per move, so a repeat runs once. */
export function moveFinishId(moveRequestId: string): string {
  return `movefin-${moveRequestId}`.slice(0, 128);
}

/**
 * move-finish (internal, submitted by the move waiter once every target holds the files): the
 * source's links to those files go, and the move request is marked done in the same
 * transaction. A file the source changed or replaced meanwhile is not the store copy any more,
 * so it is kept (adoption takes care of it) and reported.
 */
export const moveFinishAction: Action = {
  name: 'move-finish',
  summary: "remove a moved file from its source once every target holds it",
  pathIn: 'device',
  needsDevice: true,
  needsConfirm: false,
  pathMustExist: false,
  internal: true,
  checkArgs: (args) => (typeof args.requestId === 'string' && args.requestId !== '' ? null : 'move-finish needs args.requestId.'),
  start(req: ValidRequest, env: ActionEnv) {
    const requestId = String(req.args.requestId);
    const wait = env.store.moveWaits.get(requestId);
    if (!wait || wait.source !== req.device) throw refuse('UNKNOWN_MOVE', `No move ${requestId} from ${req.device} is waiting.`, 'This is an internal request; nothing to do.');
    const b = new PlanBuilder(env.layout);
    const devRoot = env.layout.device(wait.source);
    const kept: string[] = [];
    let removed = 0;
    for (const rel of JSON.parse(wait.files) as string[]) {
      const abs = deviceSafe(devRoot, rel);
      const st = abs ? lstatOrUndefined(abs) : undefined;
      if (!abs || !st) continue; // gone from the source already
      const store = path.join(env.layout.files, rel);
      if (st.isFile() && sameInode(lstatOrUndefined(store), st)) {
        b.add({ op: 'unlink', path: b.rel(abs), ino: st.ino, keep: b.rel(store) });
        removed++;
      } else kept.push(rel);
    }
    b.endStep();
    const topAbs = deviceSafe(devRoot, wait.path);
    if (topAbs && wait.path !== '' && lstatOrUndefined(topAbs)?.isDirectory()) {
      const dirs = [topAbs, ...[...walk(topAbs, deviceArea(wait.source), wait.path)].filter((e) => e.st.isDirectory()).map((e) => e.abs)];
      for (const d of dirs.reverse()) b.add({ op: 'rmdir', path: b.rel(d), ifEmpty: true });
    }
    b.devices.add(wait.source);
    if (topAbs) b.refresh.add(b.rel(topAbs));
    b.commit.push({ db: 'unsubscribe', device: wait.source, path: wait.path }, { db: 'forget-links', device: wait.source, path: wait.path });
    if (wait.path !== '' && env.subscriptions.subscribersOf(wait.path).includes(wait.source)) b.commit.push({ db: 'exclude', device: wait.source, path: wait.path });
    const result = { removed, removedFrom: wait.source, ...(kept.length ? { keptOnSource: kept.slice(0, 50) } : {}) };
    b.commit.push({ db: 'move-finish', requestId, state: 'done', reason: null, result });
    return b.build({ move: requestId, ...result });
  },
};
