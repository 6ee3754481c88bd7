/**
 * The versions this folder still wants. Why not a Map of whole records: a
 * signed record with its opened form costs about 1.5 KB in memory, so a new
 * peer wanting 100,000 files held 150 MB of records it would only read one at
 * a time. Here a want keeps what the puller and the status look at (id,
 * version, size, sources, whether its blocks are already here); its record
 * waits in the folder database's `need` table and is read back when the puller
 * starts it (held until it is done, then let go).
 */
import type { WireRecord } from '../protocol/index.js';
import { versionBytes, type PlainRecord, type SealedRecord } from './records.js';
import type { WriteBehind } from './write-behind.js';
import type { Link } from './link.js';

/**
 * One wanted version. A class with every field set in its constructor, so all wants share one
 * shape: a plain object that gained and lost its record with `delete` fell into dictionary mode
 * and cost ~800 bytes more (measured in a heap snapshot of a receiver wanting 35,000 files).
 */
export class Want {
  readonly id: string;
  /** Hex SHA-256 of the signed record: the version wanted. */
  readonly hash: string;
  readonly del: boolean;
  /** Bytes this version has: plaintext size, or the ciphertext's in an encrypted-storage folder. */
  readonly size: number;
  /** The connected peers that announced this version (an array: a Set cost 200 bytes more per want). */
  sources: Link[];
  keepLocal: boolean;
  /** Hash of our entry when keepLocal was decided; a later local scan means deciding again. */
  base: string | undefined;
  active = false;
  retryAt = 0;
  doneBytes = 0;
  /**
   * Whether every block is already in some local file: worked out only when it matters (no peer
   * offers this version; status.ts isLocal), and again after a failed try.
   */
  local: boolean | undefined = undefined;
  /** A newer version of the same file that arrived while this one was being applied. */
  next: HeldWant | undefined = undefined;
  /** The record, while held (being applied, or not yet put away). */
  s: SealedRecord | undefined;
  p: PlainRecord | undefined;

  constructor(s: SealedRecord, p: PlainRecord | undefined, sources: Link[], base: string | undefined, keepLocal: boolean) {
    this.id = s.id;
    this.hash = s.hash;
    this.del = s.del;
    this.size = versionBytes(s, p);
    this.sources = sources;
    this.keepLocal = keepLocal;
    this.base = base;
    this.s = s;
    this.p = p;
  }
}

/** A want whose record is held. */
export type HeldWant = Want & { s: SealedRecord };

export interface OpenedRecord {
  s: SealedRecord;
  p?: PlainRecord;
}

export class Wanted {
  private readonly map = new Map<string, Want>();

  /**
   * `need` is the database table of wanted records (write-behind); `open` turns a stored
   * record back into its sealed and opened forms (undefined if it no longer opens).
   */
  constructor(
    private readonly need: WriteBehind<WireRecord>,
    private readonly open: (w: WireRecord) => OpenedRecord | undefined,
  ) {}

  get(id: string): Want | undefined {
    return this.map.get(id);
  }
  has(id: string): boolean {
    return this.map.has(id);
  }
  values(): IterableIterator<Want> {
    return this.map.values();
  }
  get size(): number {
    return this.map.size;
  }

  /** Want a version: its record is put away in the need table unless the want is being applied. */
  set(w: HeldWant): void {
    this.need.set(w.id, { body: w.s.body, sig: w.s.sig });
    this.map.set(w.id, w);
    if (!w.active) this.release(w);
  }

  delete(id: string): void {
    if (this.map.delete(id)) this.need.delete(id);
  }

  /** The want's record: the held one, or read back from the need table. */
  record(w: Want): OpenedRecord | undefined {
    if (w.s) return w.p ? { s: w.s, p: w.p } : { s: w.s };
    const stored = this.need.get(w.id);
    return stored && this.open(stored);
  }

  /** Hold the want's record in memory (while it is applied); undefined if it can no longer be read. */
  hold(w: Want): HeldWant | undefined {
    const r = this.record(w);
    if (!r) return undefined;
    w.s = r.s;
    w.p = r.p;
    return w as HeldWant;
  }

  release(w: Want): void {
    w.s = undefined;
    w.p = undefined;
  }
}

/** A want for a version, its record held (put it away with Wanted.set). */
export function newWant(s: SealedRecord, p: PlainRecord | undefined, sources: Link[], base: string | undefined, keepLocal: boolean): HeldWant {
  return new Want(s, p, sources, base, keepLocal) as HeldWant;
}

/** Remove a peer from a list of sources, in place (queued block requests share the list). */
export function dropSource(sources: Link[], link: Link): void {
  const i = sources.indexOf(link);
  if (i >= 0) sources.splice(i, 1);
}
