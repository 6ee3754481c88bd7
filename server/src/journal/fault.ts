/**
 * The fault-injection hook the crash tests use: BURROW_FAULT_AFTER_STEP=<n> kills the process
 * with SIGKILL right after step n of an action (0 = right after its intent was journaled,
 * steps+1 = right after it was marked done), optionally only for BURROW_FAULT_ACTION=<action>.
 * A step's filesystem work is done but not yet recorded when the kill comes, which is the
 * hardest moment for recovery.
 */
export function faultPoint(action: string, step: number): void {
  const at = process.env.BURROW_FAULT_AFTER_STEP;
  if (at === undefined || at === '') return;
  if (Number(at) !== step) return;
  const only = process.env.BURROW_FAULT_ACTION;
  if (only && only !== action) return;
  process.kill(process.pid, 'SIGKILL');
}
