/**
 * The folder's index as the engine reads it: records, block locations, the
 * local stat cache and each peer's holdings live in the folder's database
 * (index-db.ts); only the changes since the last save (write-behind.ts) and a
 * small cache of parsed records stay in memory, so memory does not grow with
 * the number of files.
 */
import type { StatInfo } from './scanner.js';
import type { BlockLoc, IndexDb, ListedRecord, StoredBlock, StoredRecord } from './index-db.js';
import type { Entry } from './entry.js';
import { WriteBehind } from './write-behind.js';
import type { WireRecord } from '../protocol/index.js';

/** Parsed records kept for reuse: a scan or a pull touches a record several times in a row. */
const PARSED_CACHE = 2048;
const PAGE = 1000;

export class RecordTable {
  private readonly rows: WriteBehind<Entry>;
  private readonly parsed = new Map<string, Entry>();

  /**
   * `parse` turns a stored row back into an entry (undefined if it no longer
   * opens); `save` writes the pending changes of every table (false: it could not).
   */
  constructor(
    private readonly db: IndexDb,
    private readonly parse: (r: StoredRecord) => Entry | undefined,
    private readonly save: () => boolean,
  ) {
    this.rows = new WriteBehind((id) => this.read(id), save);
  }

  private read(id: string): Entry | undefined {
    const hit = this.parsed.get(id);
    if (hit) return hit;
    const row = this.db.record(id);
    const e = row && this.parse(row);
    if (e) this.remember(id, e);
    return e;
  }

  private remember(id: string, e: Entry): void {
    this.parsed.delete(id);
    this.parsed.set(id, e);
    if (this.parsed.size > PARSED_CACHE) this.parsed.delete(this.parsed.keys().next().value!);
  }

  get(id: string): Entry | undefined {
    return this.rows.get(id);
  }
  set(id: string, e: Entry): void {
    this.remember(id, e);
    this.rows.set(id, e);
  }
  take(): Array<[string, Entry | null]> {
    return this.rows.take();
  }
  restore(items: Array<[string, Entry | null]>): void {
    this.rows.restore(items);
  }
  get size(): number {
    this.save();
    return this.db.recordCount();
  }

  /**
   * Every saved record with a sequence above `seq`, in ascending sequence, read
   * a page at a time. Records installed between pages are saved before the next
   * page is read, so each is seen once, at its newest sequence (reading only the
   * database missed them while an index went out at the pace of a slow peer).
   * A record a save could not write (a full disk) is not given: announced and
   * then lost in a crash, its sequence would be given again to another record,
   * which a peer that remembered it would never ask for (soak finding 5).
   */
  *since(seq: number): IterableIterator<Entry> {
    for (let last = seq; ; ) {
      const saved = this.save();
      const rows = this.db.recordsSince(last, PAGE);
      for (const r of rows) {
        last = r.seq;
        if (!saved && this.rows.isPending(r.id)) continue; // replaced or removed since, not saved yet
        const e = this.parse(r);
        if (e) yield e;
      }
      if (rows.length < PAGE) return;
    }
  }

  /** The file list (listing columns only: no record is opened), in sequence order. */
  list(): ListedRecord[] {
    this.save();
    return [...this.db.list()];
  }

  /** Known paths strictly under folder `dir`, or every known path (plain-level folders). */
  paths(dir?: string): Array<{ path: string; id: string }> {
    this.save();
    return dir === undefined ? [...this.db.paths()] : this.db.pathsUnder(dir);
  }
}

/** Where each plaintext (and ciphertext) block can be read from a local file. */
export class BlockTable {
  private pending = new Map<string, StoredBlock>();
  private pendingCipher = new Map<string, StoredBlock>();

  constructor(
    private readonly db: IndexDb,
    private readonly save: () => boolean,
    private readonly limit = 4000,
  ) {}

  put(b: StoredBlock): void {
    this.pending.set(b.plain, b);
    this.pendingCipher.set(b.cipher, b);
    if (this.pending.size >= this.limit) this.save();
  }
  byPlain(h: string): BlockLoc | undefined {
    return this.pending.get(h) ?? this.db.blockByPlain(h);
  }
  byCipher(h: string): (BlockLoc & { plain: string }) | undefined {
    return this.pendingCipher.get(h) ?? this.db.blockByCipher(h);
  }
  take(): StoredBlock[] {
    const out = [...this.pending.values()];
    this.pending.clear();
    this.pendingCipher.clear();
    return out;
  }
  /** Blocks a save took but could not write: pending again (a newer location stays). */
  restore(blocks: StoredBlock[]): void {
    for (const b of blocks) {
      if (this.pending.has(b.plain)) continue;
      this.pending.set(b.plain, b);
      if (!this.pendingCipher.has(b.cipher)) this.pendingCipher.set(b.cipher, b);
    }
  }
}

export function localTable(db: IndexDb, save: () => boolean): WriteBehind<StatInfo> {
  return new WriteBehind((p) => db.localStat(p), save);
}

/** The records of the versions still wanted (wanted.ts). */
export function needTable(db: IndexDb, save: () => boolean): WriteBehind<WireRecord> {
  return new WriteBehind((id) => db.needOf(id), save);
}

export function haveTable(db: IndexDb, device: string, save: () => boolean): WriteBehind<string> {
  return new WriteBehind((id) => db.haveOf(device, id), save);
}
