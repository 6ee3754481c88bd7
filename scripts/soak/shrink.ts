import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deps, describe, type Op } from './ops.js';

/**
 * Shrinking a failure by replay (issue 17): the first cut (the ops on the failing paths, every
 * fault, and the ops that made what those need) is replayed on fresh households, then cut down by
 * delta debugging (ddmin). A trial reproduces when its replay fails with problems that name every
 * path the original failure named: paths, not whole lines, because sizes, inodes and request ids
 * differ from one household to the next.
 *
 * Each trial is a child `soak --replay` in a fresh roots folder (its own tmpfs when full disks are
 * on); a trial's failure is read from its failure.json. Roots of passing trials go; the smallest
 * reproducing one is kept.
 */

/** The store-relative paths a list of problems names. */
export function namedPaths(problems: string[]): Set<string> {
  const named = new Set<string>();
  for (const p of problems) for (const m of p.matchAll(/(?:files|devices\/[^/\s]+|shared\/[^/\s]+)\/([^\s"(),]+)/g)) named.add(m[1]!);
  for (const p of problems) for (const m of p.matchAll(/\(([^\s()]+\.[A-Za-z0-9]+)\)/g)) named.add(m[1]!);
  return named;
}

const structural = (op: Op) => op.kind === 'fault' || op.kind === 'phase-end' || op.kind === 'revoke-friend';

/** The ops on the named paths (or a folder above or below them), every fault and phase end, and the makers of what they need. */
export function firstCut(ops: Op[], named: Set<string>): Op[] {
  const d = ops.map(deps);
  const near = (x: string) => [...named].some((n) => x === n || n.startsWith(`${x}/`) || x.startsWith(`${n}/`));
  const keep = new Set<number>();
  ops.forEach((op, i) => {
    if (structural(op) || d[i]!.paths.some(near)) keep.add(i);
  });
  const work = [...keep];
  while (work.length) {
    const i = work.pop()!;
    for (const need of d[i]!.needs)
      for (let j = i - 1; j >= 0; j--)
        if (d[j]!.makes.includes(need)) {
          if (!keep.has(j)) {
            keep.add(j);
            work.push(j);
          }
          break;
        }
  }
  return ops.filter((_, i) => keep.has(i));
}

/** Drop phase ends with nothing before them since the last one: a replay skips them anyway. */
export function compact(ops: Op[]): Op[] {
  const out: Op[] = [];
  for (const op of ops) if (op.kind !== 'phase-end' || (out.length && out[out.length - 1]!.kind !== 'phase-end')) out.push(op);
  return out;
}

/** Zeller's ddmin: a 1-minimal subset for which test still holds (as far as the time allows). */
export async function ddmin<T>(items: T[], test: (xs: T[]) => Promise<boolean>, outOfTime: () => boolean): Promise<T[]> {
  let n = 2;
  while (items.length >= 2 && !outOfTime()) {
    const size = Math.ceil(items.length / n);
    const chunks: T[][] = [];
    for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
    let next: T[] | null = null;
    for (const c of chunks) if (!next && !outOfTime() && (await test(c))) next = c;
    if (next) {
      items = next;
      n = 2;
      continue;
    }
    // With two chunks the complements are the chunks themselves, already tried.
    if (chunks.length > 2)
      for (const c of chunks)
        if (!next && !outOfTime()) {
          const rest = items.filter((x) => !c.includes(x));
          if (await test(rest)) next = rest;
        }
    if (next) {
      items = next;
      n = Math.max(n - 1, 2);
      continue;
    }
    if (n >= items.length) break;
    n = Math.min(items.length, n * 2);
  }
  return items;
}

export interface ShrinkSetup {
  /** The failed run's roots: first-cut.jsonl, repro.jsonl and shrink/ (trial lists and outputs) go there. */
  base: string;
  seed: number;
  /** The run's options a replay needs (phase, settle, tmpfs, netns, plant-bug). */
  args: string[];
  named: Set<string>;
  budgetMs: number;
  say: (line: string) => void;
}

let running: ChildProcess | null = null;
/** Stop the trial in progress (the driver is being stopped). */
export function abortTrial(): void {
  if (running?.pid) process.kill(-running.pid, 'SIGTERM');
}

function removeRoots(roots: string): void {
  spawnSync('umount', [roots], { stdio: 'ignore' }); // a tmpfs when full disks are on; harmless otherwise
  fs.rmSync(roots, { recursive: true, force: true });
}

export async function shrink(s: ShrinkSetup, ops: Op[]): Promise<void> {
  const started = Date.now();
  const deadline = started + s.budgetMs;
  const outOfTime = () => Date.now() >= deadline;
  const dir = path.join(s.base, 'shrink');
  fs.mkdirSync(dir, { recursive: true });
  const write = (file: string, list: Op[]) => fs.writeFileSync(file, [{ kind: 'household', seed: s.seed, phase: 0, step: 0, at: 0 }, ...list].map((o) => JSON.stringify(o)).join('\n') + '\n');
  const cut = compact(firstCut(ops, s.named));
  write(path.join(s.base, 'first-cut.jsonl'), cut);
  s.say(`shrink: first cut ${cut.length} of ${ops.length} ops (${path.join(s.base, 'first-cut.jsonl')}); replaying it on fresh households for up to ${(s.budgetMs / 60_000).toFixed(0)} min, a trial reproduces when it fails naming ${[...s.named].join(', ')}`);

  let trials = 0;
  let reproduced = 0;
  let best: { ops: Op[]; roots: string } | null = null;
  const script = process.argv[1]!;
  const trial = async (list: Op[]): Promise<boolean> => {
    const n = ++trials;
    const file = path.join(dir, `trial-${n}.jsonl`);
    write(file, list);
    const roots = fs.mkdtempSync(path.join(os.tmpdir(), `burrow-shrink-${s.seed}-`));
    const log = fs.openSync(path.join(dir, `trial-${n}.out`), 'w');
    const t0 = Date.now();
    // Its own process group, so a trial cut off by the budget goes with its household.
    const child = spawn(process.execPath, [script, '--replay', file, '--seed', String(s.seed), '--roots', roots, '--shrink-minutes', '0', ...s.args], { detached: true, stdio: ['ignore', log, log] });
    running = child;
    const stop = setTimeout(() => {
      abortTrial();
      setTimeout(() => child.pid && child.exitCode === null && process.kill(-child.pid, 'SIGKILL'), 15_000).unref();
    }, Math.max(1000, deadline - Date.now()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    clearTimeout(stop);
    running = null;
    fs.closeSync(log);
    let names = new Set<string>();
    try {
      names = namedPaths((JSON.parse(fs.readFileSync(path.join(roots, 'failure.json'), 'utf8')) as { problems: string[] }).problems);
    } catch {
      /* passed, or cut off: no failure.json */
    }
    const ok = code === 1 && [...s.named].every((p) => names.has(p));
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    s.say(`shrink: trial ${n}: ${list.length} ops, ${ok ? 'REPRODUCED' : code === 0 ? 'passed' : code === 1 ? `failed on other paths (${[...names].slice(0, 4).join(', ') || 'none named'})` : `cut off (exit ${code})`} in ${secs} s`);
    if (ok) reproduced++;
    if (ok && (!best || list.length < best.ops.length)) {
      if (best) removeRoots(best.roots);
      best = { ops: list, roots };
    } else removeRoots(roots);
    return ok;
  };

  // The first cut must fail again before cutting it further means anything.
  while (!best && !outOfTime()) await trial(cut);
  if (!best) {
    s.say(`shrink: did not fail again in ${trials} replays: the failure depends on timing; the first cut is printed above, not replayed-proven`);
    return;
  }
  const order = new Map(cut.map((op, i) => [op, i]));
  const phaseEnds = cut.filter((op) => op.kind === 'phase-end');
  const seen = new Map<string, boolean>();
  const test = async (xs: Op[]): Promise<boolean> => {
    const list = compact([...xs, ...phaseEnds].sort((a, b) => order.get(a)! - order.get(b)!));
    const key = list.map((op) => order.get(op)).join(',');
    if (!seen.has(key)) seen.set(key, await trial(list));
    return seen.get(key)!;
  };
  await ddmin(
    cut.filter((op) => op.kind !== 'phase-end'),
    test,
    outOfTime,
  );
  const found = best as { ops: Op[]; roots: string };
  write(path.join(s.base, 'repro.jsonl'), found.ops);
  s.say(
    [
      `shrink: ${trials} trials in ${((Date.now() - started) / 60_000).toFixed(1)} min, ${reproduced} reproduced${outOfTime() ? ' (the budget ran out: the list may shrink further)' : ''}; ${ops.length} ops -> first cut ${cut.length} -> ${found.ops.length}:`,
      ...found.ops.map((op) => `  ${describe(op)}`),
      `shrink: the smallest reproducing list is ${path.join(s.base, 'repro.jsonl')}; its replay's roots are kept in ${found.roots} (umount ${found.roots} when done, if a tmpfs)`,
      `replay it: npm run soak -- --replay ${path.join(s.base, 'repro.jsonl')} --seed ${s.seed} ${s.args.join(' ')}`,
    ].join('\n'),
  );
}
