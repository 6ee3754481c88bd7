/**
 * The two jobs with their lock, as both the NAS's scheduler and the CLI run them. The CLI has
 * no running indexer, so `cliRefresher` gives it the same refresh() on a throwaway Indexer.
 */
import { pino } from 'pino';
import type { Store } from '../store/index.js';
import type { RootLayout } from '../root/layout.js';
import type { BurrowConfig } from '../config/schema.js';
import { Indexer } from '../index/indexer.js';
import { acquireJobLock } from './job-lock.js';
import { runDedupe, type DedupeOptions, type DedupeReport } from './dedupe.js';
import { runBalance, type BalanceReport } from './balance.js';

export function cliRefresher(store: Store, layout: RootLayout): (absPaths: string[]) => void {
  const indexer = new Indexer(store, layout, { watch: false, debounceMs: 0, hashWorkers: 1, hashQueue: 1, reconcileMinutes: 0, hash: false }, pino({ level: 'silent' }));
  return (absPaths) => {
    indexer.refresh(absPaths);
  };
}

export async function dedupeJob(
  store: Store,
  layout: RootLayout,
  config: BurrowConfig,
  opts: Pick<DedupeOptions, 'dryRun' | 'refresh' | 'onProgress' | 'faults' | 'beforeReplace'> = {},
): Promise<DedupeReport> {
  const lock = acquireJobLock(store, 'dedupe');
  try {
    return await runDedupe(store, layout.files, {
      ...opts,
      minAgeSeconds: config.jobs.dedupeMinAgeSeconds,
      allowMetadataMismatch: config.jobs.dedupeAllowMetadataMismatch,
      // Cold reads wait on the disk more than on the CPU: a couple more readers keep it busy.
      hashWorkers: config.index.hashWorkers + 2,
    });
  } finally {
    lock.release();
  }
}

export function balanceJob(store: Store, layout: RootLayout, opts: { device?: string; dryRun?: boolean; refresh?: (absPaths: string[]) => void } = {}): BalanceReport {
  const lock = acquireJobLock(store, 'balance');
  try {
    return runBalance(store, layout, opts);
  } finally {
    lock.release();
  }
}
