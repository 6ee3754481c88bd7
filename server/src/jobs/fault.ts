/**
 * Fault injection for the crash tests: with BURROW_FAULT_AFTER_STEP=<n>, the process kills
 * itself with SIGKILL right after its n-th journaled step, exactly like a power cut or kill -9
 * (no exit handlers, no finally blocks). Unset, `step()` only counts.
 */
export class FaultInjector {
  private count = 0;
  private readonly killAfter: number | null;

  constructor(env: string | undefined = process.env.BURROW_FAULT_AFTER_STEP) {
    const n = env === undefined || env === '' ? NaN : Number(env);
    this.killAfter = Number.isInteger(n) && n > 0 ? n : null;
  }

  get steps(): number {
    return this.count;
  }

  step(): void {
    this.count++;
    if (this.killAfter !== null && this.count >= this.killAfter) process.kill(process.pid, 'SIGKILL');
  }
}
