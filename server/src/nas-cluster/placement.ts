import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { readHoldings } from '../sync/index.js';
import type { FolderZonesRow, PlacementMember, PlacementRow } from '../store/placement-repo.js';

/** At most this many paths of files kept in too few zones are remembered, to name in warnings. */
const SAMPLES = 100;
/** Rows read between two turns of the event loop: a 1M-file store is read without blocking requests. */
const ROWS_PER_TURN = 2000;
/** A member is judged on its availability only once it has been known this long. */
const JUDGE_AFTER_MS = 3600_000;
export const AVAILABILITY_WINDOW_MS = 7 * 24 * 3600_000;

export interface PlacementInput {
  /** the member computing it: it holds every file in its own index */
  self: { id: string; name: string; zone: string };
  /** the other members, with their sync device ids (from the ledger) and their share of the window reachable from here */
  others: Array<{ id: string; name: string; zone: string; syncDevice: string | undefined; availability: number; knownForMs: number }>;
  required: number;
  /** a member reachable less than this share of the last 7 days does not count as a copy */
  minAvailability: number;
}

export interface Placement {
  summary: PlacementRow;
  folders: FolderZonesRow[];
}

/** Which of the members count as copies, and why the others do not. */
export function countedMembers(input: PlacementInput): PlacementMember[] {
  const out: PlacementMember[] = [{ ...input.self, counted: true, why: null }];
  for (const m of input.others) {
    let why: string | null = null;
    if (!m.syncDevice) why = 'it has not described itself in the ledger yet';
    else if (m.knownForMs >= JUDGE_AFTER_MS && m.availability < input.minAvailability)
      why = `reachable ${Math.round(m.availability * 100)} % of the last 7 days, under cluster.minAvailabilityPercent (${Math.round(input.minAvailability * 100)} %)`;
    out.push({ id: m.id, name: m.name, zone: m.zone, counted: why === null, why });
  }
  return out;
}

/** Folders deeper than this are counted in their ancestor at this depth: memory stays bounded by the folders near the top. */
export const MAX_DEPTH = 4;

interface Agg {
  files: number;
  bytes: number;
  /** zones holding every file below so far */
  zones: Set<string>;
  under: number;
}

const sameZones = (a: string[], b: string[]): boolean => a.length === b.length && a.every((z, i) => z === b[i]);

/**
 * Folds files, in any order, into the folders worth showing: files/ itself, every top-level
 * folder, and any deeper folder (down to MAX_DEPTH) whose zones differ from its parent's. A
 * folder's zones are those that hold every file below it.
 */
export class PlacementFold {
  private readonly dirs = new Map<string, Agg>();
  files = 0;
  under = 0;
  readonly samples: string[] = [];

  constructor(private readonly required: number) {}

  add(file: string, size: number, zones: ReadonlySet<string>): void {
    const short = zones.size < this.required;
    this.files++;
    if (short) {
      this.under++;
      if (this.samples.length < SAMPLES) this.samples.push(file);
    }
    this.count('', size, zones, short);
    const parts = file.split('/');
    let dir = '';
    for (let i = 0; i < Math.min(parts.length - 1, MAX_DEPTH); i++) {
      dir = i === 0 ? parts[0]! : `${dir}/${parts[i]}`;
      this.count(dir, size, zones, short);
    }
  }

  private count(dir: string, size: number, zones: ReadonlySet<string>, short: boolean): void {
    const a = this.dirs.get(dir);
    if (!a) {
      this.dirs.set(dir, { files: 1, bytes: size, zones: new Set(zones), under: short ? 1 : 0 });
      return;
    }
    a.files++;
    a.bytes += size;
    if (short) a.under++;
    for (const z of a.zones) if (!zones.has(z)) a.zones.delete(z);
  }

  finish(): FolderZonesRow[] {
    const rows = new Map<string, FolderZonesRow>();
    for (const [p, a] of this.dirs) rows.set(p, { path: p, files: a.files, bytes: a.bytes, zones: [...a.zones].sort(), under: a.under });
    if (!rows.has('')) rows.set('', { path: '', files: 0, bytes: 0, zones: [], under: 0 });
    const out: FolderZonesRow[] = [];
    for (const row of rows.values()) {
      const cut = row.path.lastIndexOf('/');
      if (row.path === '' || cut < 0 || !sameZones(row.zones, rows.get(row.path.slice(0, cut))!.zones)) out.push(row);
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

/**
 * Work out which zones hold each folder and which files sit in too few zones, from this
 * member's sync engine's saved view of the store folder (what each member's index last said it
 * holds). Yields to the event loop every few thousand files. Undefined while the engine has
 * never opened the store folder here.
 */
export async function computePlacement(stateDir: string, storeSecret: string, input: PlacementInput, now = Date.now()): Promise<Placement | undefined> {
  const members = countedMembers(input);
  const zoneOfDevice = new Map<string, string>();
  for (const m of input.others) if (m.syncDevice && members.find((c) => c.id === m.id)?.counted) zoneOfDevice.set(m.syncDevice, m.zone);
  const holdings = readHoldings(stateDir, storeSecret);
  if (!holdings) return undefined;
  const fold = new PlacementFold(input.required);
  try {
    let n = 0;
    for (const f of holdings.files([...zoneOfDevice.keys()])) {
      const zones = new Set([input.self.zone]);
      for (const d of f.holders) zones.add(zoneOfDevice.get(d)!);
      fold.add(f.path, f.size, zones);
      if (++n % ROWS_PER_TURN === 0) await yieldToLoop();
    }
  } finally {
    holdings.close();
  }
  const folders = fold.finish();
  return { summary: { computedAt: now, required: input.required, files: fold.files, under: fold.under, samples: fold.samples, members }, folders };
}
