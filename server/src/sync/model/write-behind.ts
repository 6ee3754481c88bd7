/**
 * A write-behind view of one table of the folder's database: what changed
 * since the last save is held here (and read from here first), everything
 * else is read from the database on demand. Why: the whole index in Maps cost
 * hundreds of MB at 100,000 files; this holds only the changes of the last few
 * seconds, and the database gets them in one transaction per save, not one
 * commit per row.
 */
export class WriteBehind<V> {
  private pending = new Map<string, V | null>();

  /**
   * `read` looks a key up in the database; `full` is called when `limit`
   * changes are pending (it should save them), so memory stays bounded while
   * a first scan or a first sync installs records faster than the save timer.
   */
  constructor(
    private readonly read: (k: string) => V | undefined,
    private readonly full: () => void = () => undefined,
    private readonly limit = 4000,
  ) {}

  get(k: string): V | undefined {
    const v = this.pending.get(k);
    if (v === null) return undefined;
    return v !== undefined ? v : this.read(k);
  }
  has(k: string): boolean {
    return this.get(k) !== undefined;
  }
  set(k: string, v: V): void {
    this.pending.set(k, v);
    if (this.pending.size >= this.limit) this.full();
  }
  delete(k: string): void {
    this.pending.set(k, null);
    if (this.pending.size >= this.limit) this.full();
  }
  get pendingCount(): number {
    return this.pending.size;
  }
  /** The pending changes (null: deleted), handed to a save and forgotten here. */
  take(): Array<[string, V | null]> {
    const out = [...this.pending];
    this.pending.clear();
    return out;
  }
  /**
   * Hand back changes a save took but could not write (a full disk): they are pending again,
   * unless the key changed since, whose newer value stays.
   */
  restore(items: Array<[string, V | null]>): void {
    for (const [k, v] of items) if (!this.pending.has(k)) this.pending.set(k, v);
  }
  isPending(k: string): boolean {
    return this.pending.has(k);
  }
  /** Drop pending changes without saving them (the table was reset). */
  discard(): void {
    this.pending.clear();
  }
}
