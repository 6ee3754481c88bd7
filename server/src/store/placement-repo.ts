import type { Db } from './db.js';

export interface FolderZonesRow {
  path: string;
  files: number;
  bytes: number;
  zones: string[];
  under: number;
}

export interface PlacementMember {
  id: string;
  name: string;
  zone: string;
  /** whether it counts as a copy for the zone rule */
  counted: boolean;
  /** why not, when it does not */
  why: string | null;
}

export interface PlacementRow {
  computedAt: number;
  required: number;
  files: number;
  under: number;
  samples: string[];
  members: PlacementMember[];
}

/** Which zones hold the store (migration 017), as nas-cluster/placement.ts last worked it out. */
export class PlacementRepo {
  constructor(readonly db: Db) {}

  /**
   * Replace the whole picture at once, so a reader never sees half of two computations; unless a
   * computation that started later is stored already (the running NAS and `nas list` both work it
   * out, and the one that started first, with the older view of the members, may finish last).
   * `computedAt` is when the computation started. False when it was not stored.
   */
  replace(summary: PlacementRow, folders: Iterable<FolderZonesRow>): boolean {
    const put = this.db.prepare('INSERT INTO store_folder_zones (path, files, bytes, zones, under) VALUES (?, ?, ?, ?, ?)');
    return this.db.transaction(() => {
      const newer = this.db.prepare('SELECT computed_at FROM store_placement WHERE id = 1 AND computed_at > ?').get(summary.computedAt);
      if (newer) return false;
      this.db.prepare('DELETE FROM store_folder_zones').run();
      for (const f of folders) put.run(f.path, f.files, f.bytes, JSON.stringify(f.zones), f.under);
      this.db
        .prepare('INSERT OR REPLACE INTO store_placement (id, computed_at, required, files, under, samples, members) VALUES (1, ?, ?, ?, ?, ?, ?)')
        .run(summary.computedAt, summary.required, summary.files, summary.under, JSON.stringify(summary.samples), JSON.stringify(summary.members));
      return true;
    })();
  }

  summary(): PlacementRow | undefined {
    const r = this.db.prepare('SELECT * FROM store_placement WHERE id = 1').get() as
      | { computed_at: number; required: number; files: number; under: number; samples: string; members: string }
      | undefined;
    if (!r) return undefined;
    return { computedAt: r.computed_at, required: r.required, files: r.files, under: r.under, samples: JSON.parse(r.samples) as string[], members: JSON.parse(r.members) as PlacementMember[] };
  }

  /** The folders kept (top level, and deeper ones whose zones differ), those in too few zones first. */
  folders(limit = 1000): FolderZonesRow[] {
    return (this.db.prepare('SELECT path, files, bytes, zones, under FROM store_folder_zones ORDER BY under = 0, path LIMIT ?').all(limit) as Array<Omit<FolderZonesRow, 'zones'> & { zones: string }>).map((r) => ({
      ...r,
      zones: JSON.parse(r.zones) as string[],
    }));
  }

  /** Top-level folders' zones, for the catalogue. */
  topLevel(): Map<string, string[]> {
    const rows = this.db.prepare("SELECT path, zones FROM store_folder_zones WHERE path <> '' AND instr(path, '/') = 0").all() as Array<{ path: string; zones: string }>;
    return new Map(rows.map((r) => [r.path, JSON.parse(r.zones) as string[]]));
  }

  clear(): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM store_folder_zones').run();
      this.db.prepare('DELETE FROM store_placement').run();
    })();
  }
}
