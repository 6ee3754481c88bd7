import type { Db } from './db.js';

export type JournalState = 'forward' | 'rollback' | 'done' | 'rolled-back';

export interface JournalRow {
  id: number;
  request_id: string;
  action: string;
  plan: string;
  state: JournalState;
  steps_done: number;
  error: string | null;
  created_at: number;
  updated_at: number;
}

/** The link journal: an action's plan and its progress, written before and after every step. */
export class JournalRepo {
  private readonly beginStmt;
  private readonly planStmt;
  private readonly progressStmt;
  private readonly stateStmt;
  private readonly openStmt;
  private readonly byRequestStmt;

  constructor(readonly db: Db) {
    this.beginStmt = db.prepare("INSERT INTO journal (request_id, action, state, steps_done, created_at, updated_at) VALUES (?, ?, 'forward', 0, ?, ?)");
    this.planStmt = db.prepare('INSERT INTO journal_plans (journal_id, plan) VALUES (?, ?)');
    this.progressStmt = db.prepare('UPDATE journal SET steps_done = ?, updated_at = ? WHERE id = ?');
    this.stateStmt = db.prepare('UPDATE journal SET state = ?, error = coalesce(?, error), steps_done = ?, updated_at = ? WHERE id = ?');
    this.openStmt = db.prepare("SELECT j.*, p.plan FROM journal j JOIN journal_plans p ON p.journal_id = j.id WHERE j.state IN ('forward', 'rollback') ORDER BY j.id");
    this.byRequestStmt = db.prepare('SELECT j.*, p.plan FROM journal j JOIN journal_plans p ON p.journal_id = j.id WHERE j.request_id = ?');
  }

  begin(requestId: string, action: string, plan: string, now = Date.now()): number {
    const id = Number(this.beginStmt.run(requestId, action, now, now).lastInsertRowid);
    this.planStmt.run(id, plan);
    return id;
  }

  progress(id: number, stepsDone: number): void {
    this.progressStmt.run(stepsDone, Date.now(), id);
  }

  setState(id: number, state: 'forward' | 'rollback' | 'done' | 'rolled-back', stepsDone: number, error: string | null = null): void {
    this.stateStmt.run(state, error, stepsDone, Date.now(), id);
  }

  unfinished(): JournalRow[] {
    return this.openStmt.all() as JournalRow[];
  }

  forRequest(requestId: string): JournalRow | undefined {
    return this.byRequestStmt.get(requestId) as JournalRow | undefined;
  }
}
