import fs from 'node:fs';
import path from 'node:path';
import type { Device, Household } from './household.js';
import type { Model } from './model.js';
import type { Op } from './ops.js';

export interface FinishedRequest {
  id: string;
  device: Device;
  action: string;
  path: string;
  args: Record<string, unknown>;
}

/**
 * The running state the chooser, the executor and the settle share (one per run or replay). The
 * human-readable lines (actions.log, the printed list) and the ops (ops.jsonl) are kept side by
 * side: tests and SOAK.md quote the lines, the shrinker replays the ops.
 */
export class Driver {
  phase = 0;
  step = 0;
  /** When the current phase started (Date.now()), for the ops' offsets. */
  phaseStart = Date.now();
  private counter = 0;
  readonly actions: string[] = [];
  readonly ops: Op[] = [];
  /** Requests with a known outcome: what a "replay" step may post again. */
  readonly finished: FinishedRequest[] = [];
  readonly stats = { actions: 0, skipped: 0, kills: 0, diskFulls: 0, cuts: 0, restarts: 0, requests: 0, requestsUnknown: 0, replays: 0, phases: 0, trashEmptied: 0, byKind: {} as Record<string, number> };
  /** Set once a failure is reported: from then on nothing may act on the household (the shrinker runs its own). */
  halted = false;
  /** --plant-bug's bookkeeping: paths a rename made, and store files the driver keeps deleting. */
  readonly renamed = new Set<string>();
  readonly planted = new Set<string>();

  constructor(
    readonly seed: number,
    readonly base: string,
    readonly hh: Household,
    readonly model: Model,
    /** A replay runs ops whose preconditions may be gone: it says so and goes on instead of failing. */
    readonly replaying: boolean,
    readonly plantBug: boolean,
  ) {}

  uid(): string {
    return `s${this.seed}p${this.phase}s${this.step}n${++this.counter}`;
  }

  record(kind: string, line: string): void {
    this.stats.actions++;
    this.stats.byKind[kind] = (this.stats.byKind[kind] ?? 0) + 1;
    this.actions.push(`[${this.phase}.${this.step}] ${line}`);
    try {
      fs.appendFileSync(path.join(this.base, 'actions.log'), `${new Date().toISOString()} [${this.phase}.${this.step}] ${line}\n`);
    } catch {
      /* a full disk: the list stays in memory and is printed on a failure */
    }
  }

  note(line: string): void {
    this.actions.push(`[${this.phase}.${this.step}] ${line}`);
  }

  logOp(op: Op): void {
    this.ops.push(op);
    try {
      fs.appendFileSync(path.join(this.base, 'ops.jsonl'), `${JSON.stringify(op)}\n`);
    } catch {
      /* a full disk: the ops stay in memory, which is what the shrinker uses */
    }
  }
}
