import fs from 'node:fs';
import path from 'node:path';
import type { RootLayout } from '../root/layout.js';
import type { Op } from '../journal/ops.js';
import type { DbChange } from '../journal/db-changes.js';
import type { Plan } from './types.js';
import { isIgnored } from '../index/ignore.js';
import { BurrowError } from '../errors.js';
import { resolveInside } from '../fsutil/safe-path.js';

/** Ops per journal step: big enough that a 10,000-file get costs few journal writes. */
const BATCH = 2000;

/**
 * Builds a plan while an action's start stage looks at the disk. It remembers the folders it
 * already planned to create, so a subtree becomes one mkdir per missing folder.
 */
export class PlanBuilder {
  private readonly steps: Op[][] = [];
  private cur: Op[] = [];
  private readonly plannedDirs = new Set<string>();
  readonly commit: DbChange[] = [];
  readonly refresh = new Set<string>();
  readonly devices = new Set<string>();
  readonly shares = new Set<string>();

  constructor(readonly layout: RootLayout) {}

  rel(abs: string): string {
    return path.relative(this.layout.root, abs);
  }

  add(op: Op): void {
    this.cur.push(op);
    if (this.cur.length >= BATCH) this.endStep();
  }

  /** Close the current step, so what follows happens only after it (e.g. stop syncing, then unlink). */
  endStep(): void {
    if (this.cur.length > 0) this.steps.push(this.cur);
    this.cur = [];
  }

  /** Plan mkdir for every missing folder from `stopAt` (exists) down to `absDir`. */
  ensureDir(absDir: string, stopAt: string): void {
    const missing: string[] = [];
    let d = absDir;
    while (d !== stopAt && d.startsWith(stopAt + path.sep) && !this.plannedDirs.has(d)) {
      const st = fs.lstatSync(d, { throwIfNoEntry: false });
      if (st?.isDirectory()) break;
      if (st) throw new BurrowError('PATH_TAKEN', `${this.rel(d)} is a file, so nothing can be put inside it.`, 'Move that file away and try again.');
      missing.push(d);
      d = path.dirname(d);
    }
    for (const m of missing.reverse()) {
      this.plannedDirs.add(m);
      this.add({ op: 'mkdir', path: this.rel(m) });
    }
  }

  plannedDir(absDir: string): boolean {
    return this.plannedDirs.has(absDir);
  }

  build(result: Record<string, unknown>): Plan {
    this.endStep();
    return { steps: this.steps, commit: this.commit, result, refresh: [...this.refresh], touched: { devices: [...this.devices], shares: [...this.shares] } };
  }
}

export interface WalkEntry {
  rel: string;
  abs: string;
  st: fs.Stats;
}

/**
 * Every entry under `absDir` (not following symlinks), parents before children. `area` picks
 * the index's ignore rules, so Burrow's own temp and state files are never moved or linked.
 */
export function* walk(absDir: string, area: string, relBase: string): Generator<WalkEntry> {
  const stack: Array<{ abs: string; rel: string }> = [{ abs: absDir, rel: relBase }];
  while (stack.length > 0) {
    const { abs, rel } = stack.pop()!;
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: Array<{ abs: string; rel: string }> = [];
    for (const d of names) {
      const childRel = rel === '' ? d.name : `${rel}/${d.name}`;
      if (isIgnored(area, childRel)) continue;
      const childAbs = path.join(abs, d.name);
      const st = fs.lstatSync(childAbs, { throwIfNoEntry: false });
      if (!st) continue;
      yield { rel: childRel, abs: childAbs, st };
      if (st.isDirectory()) subdirs.push({ abs: childAbs, rel: childRel });
    }
    for (const s of subdirs.reverse()) stack.push(s);
  }
}

export function lstatOrUndefined(p: string): fs.Stats | undefined {
  return fs.lstatSync(p, { throwIfNoEntry: false });
}

export function sameInode(a: fs.Stats | undefined, b: fs.Stats | undefined): boolean {
  return !!a && !!b && a.ino === b.ino && a.dev === b.dev;
}


/** Dates in names and notes: UTC, so every device shows the same text. */
export function stamp(d: Date): { iso: string; compact: string; dmy: string } {
  const p = (n: number) => String(n).padStart(2, '0');
  const compact = `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  const dmy = `${p(d.getUTCDate())}-${p(d.getUTCMonth() + 1)}-${String(d.getUTCFullYear()).slice(2)}`;
  return { iso: d.toISOString(), compact, dmy };
}

export const refuse = (code: string, message: string, hint: string) => new BurrowError(code, message, hint);

/**
 * `base/rel` when no component on the way is a symbolic link (a device could plant one through
 * sync), else null: the caller leaves that device path alone rather than act outside the root.
 */
export function deviceSafe(base: string, rel: string): string | null {
  try {
    return resolveInside(base, rel).abs;
  } catch {
    return null;
  }
}
