import { BurrowError } from '../errors.js';
import type { Store } from '../store/index.js';
import { processAlive } from '../util/process-alive.js';

export type JobName = 'dedupe' | 'balance';

export interface JobLock {
  release(): void;
}

export const jobErrors = {
  running: (name: string, pid: number, since: number) =>
    new BurrowError(
      'JOB_RUNNING',
      `The ${name} job is already running (pid ${pid}, since ${new Date(since).toISOString()}).`,
      `Wait for it to finish, or stop that process (kill ${pid}); a lock left by a process that died is taken over automatically.`,
    ),
};


/**
 * Take the job's lock in SQLite, so a job never runs twice at once, whether the second start
 * comes from the same NAS process (the cron and a get), or from a CLI in another shell.
 * Inside one process a held lock counts as busy too: the pid is ours and alive.
 */
export function acquireJobLock(store: Store, name: JobName): JobLock {
  const got = store.jobs.tryAcquire(name, processAlive);
  if ('heldBy' in got) throw jobErrors.running(name, got.heldBy.pid, got.heldBy.started_at);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    try {
      store.jobs.release(name, got.token);
    } catch {
      /* the database is already closed: the row is stale and will be taken over */
    }
  };
  return { release };
}

/** Wait up to `waitMs` for the lock (a get waiting for the nightly balance to finish). */
export async function acquireJobLockWaiting(store: Store, name: JobName, waitMs: number): Promise<JobLock> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return acquireJobLock(store, name);
    } catch (err) {
      if (!(err instanceof BurrowError) || err.code !== 'JOB_RUNNING' || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
