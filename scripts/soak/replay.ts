import fs from 'node:fs';
import type { Driver } from './driver.js';
import { describe, type Op } from './ops.js';

/**
 * `--replay <ops.jsonl>`: the ops of a run (or a shrunk part of them) on a fresh household, in
 * order. Faults are fired in order, each when the replay reaches it, with its recorded down time,
 * not at their recorded offsets: a shortened list takes less time than the phase did, and the
 * order of a fault among the ops is what a reproduction can hold on to. A phase-end with nothing
 * run since the last settle is skipped (settling twice proves nothing); the end of the list settles.
 */
const PAUSE_MS = 250; // about the mean pause between two steps of a run

export function readOps(file: string): { seed: number | null; ops: Op[] } {
  const ops = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Op);
  const head = ops.find((o) => o.kind === 'household');
  return { seed: head && head.kind === 'household' ? head.seed : null, ops: ops.filter((o) => o.kind !== 'household') };
}

export async function replay(drv: Driver, ops: Op[], run: (op: Op) => Promise<string | null>, say: (line: string) => void): Promise<void> {
  let since = 0;
  for (const op of ops) {
    if (op.kind === 'phase-end' && since === 0) continue;
    drv.phase = op.phase;
    drv.step = op.step;
    const why = await run(op);
    if (why) {
      // Its maker was left out of this list: the op cannot mean what it meant, and is not forced.
      drv.note(`(replay: skipped: ${why})`);
      say(`replay: skipped ${describe(op)}: ${why}`);
      continue;
    }
    if (op.kind === 'phase-end') since = 0;
    else since++;
    if (op.kind !== 'phase-end' && op.kind !== 'fault') await new Promise((r) => setTimeout(r, PAUSE_MS));
  }
  if (since) await run({ kind: 'phase-end', phase: drv.phase, step: drv.step + 1, at: 0 });
}
