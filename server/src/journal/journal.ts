import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import type { JournalRepo, JournalRow } from '../store/journal-repo.js';
import type { RequestsRepo } from '../store/requests-repo.js';
import { applyOp, undoOp, inStepBatch, type Op, type OpEnv } from './ops.js';
import { applyDbChange, type DbRepos } from './db-changes.js';
import { faultPoint } from './fault.js';
import type { Plan } from './plan.js';
import { BurrowError } from '../errors.js';

export type Outcome = { state: 'done'; result: Record<string, unknown> } | { state: 'failed'; reason: string };

export interface JournalDeps {
  store: Store;
  journal: JournalRepo;
  requests: RequestsRepo;
  repos: DbRepos;
  env: OpEnv;
  log: Logger;
}

/**
 * Runs a plan under the journal: the intent (the whole plan) is written before the first
 * step, progress after each step, and "done" together with the action's database changes
 * in one transaction. A failing step rolls back the steps before it, newest first. After a
 * crash, `recover` finishes forward journals and completes interrupted rollbacks.
 */
export class LinkJournal {
  constructor(private readonly d: JournalDeps) {}

  /** Journal the intent and run the plan. `cleanup` adds to the result once the steps are done. */
  async execute(requestId: string, action: string, plan: Plan, cleanup: () => Record<string, unknown>, onRunning?: () => void): Promise<Outcome> {
    const { store, journal, requests } = this.d;
    const id = store.tx(() => {
      const jid = journal.begin(requestId, action, JSON.stringify(plan));
      requests.setState(requestId, 'running', null, null);
      return jid;
    });
    onRunning?.();
    faultPoint(action, 0);
    return this.forward(id, requestId, action, plan, 0, cleanup);
  }

  /** Finish or roll back what a crash interrupted. `cleanupFor` gives the action's cleanup stage. */
  async recover(cleanupFor: (row: JournalRow, plan: Plan) => () => Record<string, unknown>): Promise<Array<{ requestId: string; outcome: Outcome }>> {
    const out: Array<{ requestId: string; outcome: Outcome }> = [];
    for (const row of this.d.journal.unfinished()) {
      const plan = JSON.parse(row.plan) as Plan;
      this.d.log.warn({ request: row.request_id, action: row.action, state: row.state, stepsDone: row.steps_done }, 'recovering an interrupted action');
      const outcome =
        row.state === 'forward'
          ? await this.forward(row.id, row.request_id, row.action, plan, row.steps_done, cleanupFor(row, plan))
          : await this.rollback(row.id, row.request_id, plan, row.steps_done, row.error ?? 'the NAS stopped while undoing this request');
      out.push({ requestId: row.request_id, outcome });
    }
    return out;
  }

  private async forward(jid: number, requestId: string, action: string, plan: Plan, from: number, cleanup: () => Record<string, unknown>): Promise<Outcome> {
    const { store, journal, requests, env } = this.d;
    const n = plan.steps.length;
    for (let i = from; i < n; i++) {
      const step = plan.steps[i]!;
      let current: Op | undefined;
      try {
        await inStepBatch(env, async () => {
          for (const op of step) {
            current = op;
            await applyOp(op, env);
          }
        });
      } catch (err) {
        return this.rollback(jid, requestId, plan, i + 1, describeStepError(err, current));
      }
      faultPoint(action, i + 1);
      journal.progress(jid, i + 1);
    }
    let extra: Record<string, unknown> = {};
    try {
      extra = cleanup();
    } catch (err) {
      this.d.log.warn({ err, request: requestId }, 'cleanup stage failed; the action itself is done');
    }
    const result = { ...plan.result, ...extra };
    store.tx(() => {
      for (const c of plan.commit) applyDbChange(c, this.d.repos);
      journal.setState(jid, 'done', n);
      if (plan.holdOpen) requests.setState(requestId, 'running', plan.holdOpen, JSON.stringify(result));
      else requests.setState(requestId, 'done', null, JSON.stringify(result));
    });
    faultPoint(action, n + 1);
    return { state: 'done', result };
  }

  private async rollback(jid: number, requestId: string, plan: Plan, stepsMaybeDone: number, reason: string): Promise<Outcome> {
    const { store, journal, requests, env, log } = this.d;
    journal.setState(jid, 'rollback', stepsMaybeDone, reason);
    for (let j = stepsMaybeDone - 1; j >= 0; j--) {
      const step = plan.steps[j]!;
      try {
        for (const op of [...step].reverse()) await undoOp(op, env);
      } catch (err) {
        log.error({ err, request: requestId }, 'could not undo a step; the journal keeps it and retries at next start');
        const r = `${reason} Undoing the partial work also failed (${(err as Error).message}); it will be retried when the NAS restarts.`;
        requests.setState(requestId, 'failed', r, null);
        return { state: 'failed', reason: r };
      }
      journal.progress(jid, j);
    }
    const r = `${reason} Nothing was changed.`;
    store.tx(() => {
      journal.setState(jid, 'rolled-back', 0);
      requests.setState(requestId, 'failed', r, null);
    });
    return { state: 'failed', reason: r };
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission was denied',
  EPERM: 'the operation is not permitted',
  EROFS: 'the disk is read-only',
  EXDEV: 'the two places are on different filesystems, so no hard link is possible',
  EMLINK: 'the file has too many hard links',
  ENAMETOOLONG: 'the name is too long',
  EIO: 'the disk reported an input/output error',
};

/** A failed step as a sentence a person understands, naming the file. */
export function describeStepError(err: unknown, op: Op | undefined): string {
  if (err instanceof BurrowError) return err.message;
  const e = err as NodeJS.ErrnoException;
  const what = op ? opTarget(op) : 'a file';
  const why = (e.code && ERRNO_TEXT[e.code]) ?? e.message;
  return `Could not ${op ? opVerb(op) : 'change'} ${what}: ${why}${e.code ? ` (${e.code})` : ''}.`;
}

function opVerb(op: Op): string {
  switch (op.op) {
    case 'mkdir':
      return 'create the folder';
    case 'link':
    case 'replace':
      return 'link';
    case 'unlink':
      return 'remove the link';
    case 'rename':
      return 'move';
    case 'rmdir':
      return 'remove the folder';
    case 'write':
      return 'write';
    case 'own-copy':
      return 'copy';
    case 'sync-add':
      return 'start syncing';
    case 'sync-remove':
      return 'stop syncing';
  }
}

function opTarget(op: Op): string {
  switch (op.op) {
    case 'link':
    case 'replace':
      return op.to;
    case 'rename':
      return op.from;
    case 'sync-add':
    case 'sync-remove':
      return `${op.kind} folder ${op.name}`;
    default:
      return op.path;
  }
}
