import type { Op } from './ops.js';
import type { DbChange } from './db-changes.js';

/**
 * An action's plan, written to the journal before anything happens: filesystem steps (each a
 * batch of idempotent ops), the database changes that land together with "done", the result
 * to report, and the paths the index must re-read afterwards. Everything is plain JSON.
 */
export interface Plan {
  steps: Op[][];
  commit: DbChange[];
  result: Record<string, unknown>;
  /** Root-relative paths to refresh in the index when the action is done. */
  refresh: string[];
  /** Who should hear 'links-changed'. */
  touched: { devices: string[]; shares: string[] };
  /**
   * When set, the request stays 'running' after the plan is done, with this note as its reason
   * (a move waiting for its targets); whatever finishes it later marks it done or failed.
   */
  holdOpen?: string;
}
