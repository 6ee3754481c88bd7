import fs from 'node:fs';
import path from 'node:path';
import type { NasContext, NasService } from '../nas-context.js';
import type { MoveWaitRow } from '../store/move-waits-repo.js';
import type { RequestsService } from '../requests/service.js';
import type { NasFolderSync } from './service.js';
import { moveFinishId } from '../actions/move-finish.js';

/** How often waiting moves are checked: a peer's index update is seen within this time. */
const CHECK_MS = 1000;

/**
 * The 'move-waiter' NAS service: a move's source keeps its links until every target device
 * holds the complete file. A target holds it when devices/<target>/<path> is the store copy
 * and that device's sync peer announces the NAS's current version of it (a peer announces a
 * file only once it is complete on its disk). Then the internal move-finish request removes
 * the source's links, under the journal. A target that is removed, or has not got the file
 * by the move's deadline (move.waitDays), ends the move as failed and the source keeps it.
 * Everything it needs is in SQLite (move_waits), so a restart or kill -9 just resumes.
 */
export class MoveWaiter implements NasService {
  readonly name = 'move-waiter';
  private ctx: NasContext | null = null;
  private timer: NodeJS.Timeout | null = null;

  open(ctx: NasContext): void {
    this.ctx = ctx;
    this.timer = setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
    this.check();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Look at every waiting move once: finish it, fail it, or leave it waiting. */
  check(now = Date.now()): void {
    const ctx = this.ctx;
    const requests = ctx?.services.get('requests') as RequestsService | undefined;
    if (!ctx || !requests?.processor) return;
    const proc = requests.processor;
    for (const w of ctx.store.moveWaits.waiting()) {
      try {
        const finish = proc.requests.get(moveFinishId(w.request_id));
        if (finish) {
          if (finish.state === 'failed') proc.failHeldMove(w.request_id, `Every target holds it, but removing it from ${w.source} failed: ${finish.reason ?? 'unknown reason'}`);
          continue;
        }
        const outcome = this.decide(w, now);
        if (outcome.finish) proc.submit({ id: moveFinishId(w.request_id), device: w.source, action: 'move-finish', path: w.path, args: { requestId: w.request_id } }, 'auto');
        else if (outcome.fail) proc.failHeldMove(w.request_id, outcome.fail);
      } catch (err) {
        ctx.log.warn({ err: (err as Error).message, request: w.request_id }, 'move waiter');
      }
    }
  }

  private decide(w: MoveWaitRow, now: number): { finish?: true; fail?: string } {
    const ctx = this.ctx!;
    const targets = JSON.parse(w.targets) as string[];
    const files = JSON.parse(w.files) as string[];
    const what = files.length === 1 ? `files/${files[0]}` : `the ${files.length} files of files/${w.path}`;
    const removed = targets.filter((t) => !ctx.store.devices.get(t));
    if (removed.length > 0) return { fail: `${removed.join(' and ')} ${removed.length === 1 ? 'was' : 'were'} removed before holding ${what}, so it stays on ${w.source}.` };
    const missing = targets.filter((t) => !files.every((f) => this.holds(t, f)));
    if (missing.length === 0) return { finish: true };
    if (now >= w.deadline_at) {
      return { fail: `${missing.join(' and ')} did not get ${what} within ${duration(w.deadline_at - w.created_at)} (move.waitDays in the NAS config), so it stays on ${w.source}. The links on ${missing.join(' and ')} stay: it arrives there when the device comes online.` };
    }
    return {};
  }

  private holds(device: string, rel: string): boolean {
    const { layout } = this.ctx!;
    const sync = this.ctx!.services.get('folder-sync') as NasFolderSync | undefined;
    const onNas = fs.lstatSync(path.join(layout.device(device), rel), { throwIfNoEntry: false });
    const store = fs.lstatSync(path.join(layout.files, rel), { throwIfNoEntry: false });
    if (!onNas?.isFile() || !store || onNas.ino !== store.ino || onNas.dev !== store.dev) return false;
    return sync?.deviceHolds(device, rel) ?? false;
  }
}

/** "7 days", "3 hours", "5 seconds": the wait as a person says it. */
export function duration(ms: number): string {
  const units: Array<[number, string]> = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1000, 'second']];
  for (const [size, name] of units) {
    if (ms >= size || size === 1000) {
      const n = Math.max(1, Math.round(ms / size));
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return '';
}
