import type { Db } from './db.js';
import { lazyStatements } from './jobs-repo.js';

/** One files/ path in a same-size group, with its inode's hashes if they are still valid. */
export interface DedupeCandidate {
  path: string;
  size: number;
  mtime_ms: number;
  dev: number;
  ino: number;
  nlink: number;
  mode: number;
  uid: number;
  gid: number;
  /** Hashes of the inode, null when missing or stale (size/mtime no longer match). */
  partial_hash: Buffer | null;
  full_hash: Buffer | null;
}

export interface DedupeJournalRow {
  id: number;
  run_id: number;
  keeper_path: string;
  dup_path: string;
  temp_path: string | null;
  keeper_dev: number;
  keeper_ino: number;
  dup_ino: number;
  state: 'planned' | 'done' | 'recovered';
}

export interface DedupeRunRow {
  id: number;
  started_at: number;
  finished_at: number | null;
  dry_run: number;
  state: 'running' | 'done' | 'failed' | 'interrupted';
  groups: number;
  files_linked: number;
  bytes_saved: number;
  bytes_skipped: number;
  report: string | null;
  error: string | null;
}

/**
 * Dedupe's SQL: the candidate query over the index, the run history and the replacement journal.
 * The candidate query only touches sizes held by two or more inodes, so a nightly run on an
 * unchanged, already-deduped store reads the index and nothing else.
 */
export class DedupeRepo {

  private readonly sql;
  constructor(readonly db: Db) {
    this.sql = lazyStatements(db);
  }
  // Settled sizes are left out in SQL: a (dev, size) group needs work only while some inode lacks
  // a valid partial hash, or two inodes share (partial, full) hashes. So an already-deduped store
  // returns (almost) nothing here and the job reads no file at all.
  private get candidatesStmt() {
    return this.sql(`
      WITH f AS MATERIALIZED (
        SELECT e.path, e.size, e.mtime_ms, e.dev, e.ino, e.nlink, e.mode, e.uid, e.gid,
          CASE WHEN c.size = e.size AND c.mtime_ms = e.mtime_ms THEN c.partial_hash END AS partial_hash,
          CASE WHEN c.size = e.size AND c.mtime_ms = e.mtime_ms THEN c.full_hash END AS full_hash
        FROM entries e LEFT JOIN contents c ON c.dev = e.dev AND c.ino = e.ino
        WHERE e.area = 'files' AND e.kind = 'file' AND e.size > 0
      ),
      open AS (
        SELECT dev, size FROM f GROUP BY dev, size
        HAVING count(DISTINCT ino) > 1
          AND (sum(partial_hash IS NULL) > 0 OR count(DISTINCT hex(partial_hash) || ':' || coalesce(hex(full_hash), '')) < count(DISTINCT ino))
      )
      SELECT f.* FROM open JOIN f ON f.dev = open.dev AND f.size = open.size
      ORDER BY f.dev, f.size, f.ino, f.path`);
  }
  private get emptyStmt() {
    return this.sql("SELECT count(*) FROM entries WHERE area = 'files' AND kind = 'file' AND size = 0").pluck();
  }
  private get journalAddStmt() {
    return this.sql(`INSERT INTO dedupe_journal (run_id, keeper_path, dup_path, temp_path, keeper_dev, keeper_ino, dup_ino, state, created_at)
      VALUES (@run_id, @keeper_path, @dup_path, @temp_path, @keeper_dev, @keeper_ino, @dup_ino, 'planned', @created_at)`);
  }
  private get journalSetStmt() {
    return this.sql('UPDATE dedupe_journal SET state = ?, temp_path = coalesce(?, temp_path) WHERE id = ?');
  }
  private get journalOpenStmt() {
    return this.sql("SELECT * FROM dedupe_journal WHERE state = 'planned' ORDER BY id");
  }
  private get runAddStmt() {
    return this.sql("INSERT INTO dedupe_runs (started_at, dry_run, state) VALUES (?, ?, 'running')");
  }
  private get runFinishStmt() {
    return this.sql(`UPDATE dedupe_runs SET finished_at = @finished_at, state = @state, groups = @groups, files_linked = @files_linked,
      bytes_saved = @bytes_saved, bytes_skipped = @bytes_skipped, report = @report, error = @error WHERE id = @id`);
  }


  /** Every files/ path in an unsettled (filesystem, size) group of two or more inodes, ordered by dev, size, inode. */
  candidates(): IterableIterator<DedupeCandidate> {
    return this.candidatesStmt.iterate() as IterableIterator<DedupeCandidate>;
  }

  emptyFiles(): number {
    return this.emptyStmt.get() as number;
  }

  /** Journal several replacements in one transaction (one commit for a whole batch). */
  journalPlanBatch(rows: Array<Omit<DedupeJournalRow, 'id' | 'state' | 'temp_path'>>, tempFor: (dupPath: string, id: number) => string): DedupeJournalRow[] {
    const add = this.db.transaction(() =>
      rows.map((row) => {
        const id = Number(this.journalAddStmt.run({ ...row, temp_path: null, created_at: Date.now() }).lastInsertRowid);
        const temp = tempFor(row.dup_path, id);
        this.journalSetStmt.run('planned', temp, id);
        return { ...row, id, temp_path: temp, state: 'planned' as const };
      }),
    );
    return add();
  }

  journalCloseBatch(rows: Array<{ id: number; state: 'done' | 'recovered' }>): void {
    this.db.transaction(() => {
      for (const r of rows) this.journalSetStmt.run(r.state, null, r.id);
    })();
  }

  journalClose(id: number, state: 'done' | 'recovered'): void {
    this.journalSetStmt.run(state, null, id);
  }

  openJournal(): DedupeJournalRow[] {
    return this.journalOpenStmt.all() as DedupeJournalRow[];
  }

  startRun(dryRun: boolean): number {
    // A run row still 'running' belongs to a process that died: the job lock guarantees no live one.
    this.db.prepare("UPDATE dedupe_runs SET state = 'interrupted' WHERE state = 'running'").run();
    // Closed journal rows only matter to someone debugging a recent run: keep 30 days.
    this.db.prepare("DELETE FROM dedupe_journal WHERE state != 'planned' AND created_at < ?").run(Date.now() - 30 * 86_400_000);
    return Number(this.runAddStmt.run(Date.now(), dryRun ? 1 : 0).lastInsertRowid);
  }

  finishRun(id: number, r: { state: 'done' | 'failed'; groups: number; filesLinked: number; bytesSaved: number; bytesSkipped: number; report: unknown; error?: string }): void {
    this.runFinishStmt.run({
      id,
      finished_at: Date.now(),
      state: r.state,
      groups: r.groups,
      files_linked: r.filesLinked,
      bytes_saved: r.bytesSaved,
      bytes_skipped: r.bytesSkipped,
      report: JSON.stringify(r.report),
      error: r.error ?? null,
    });
  }

  history(limit = 30): DedupeRunRow[] {
    return this.db.prepare('SELECT * FROM dedupe_runs ORDER BY id DESC LIMIT ?').all(limit) as DedupeRunRow[];
  }
}
