/**
 * One synced folder: its index of signed records, the scanner that turns
 * local edits into records (read-write only), the index exchange with each
 * connected peer, the block puller (several peers at once, local blocks
 * reused, temp file + rename, resumable) and the block server. The folder
 * mode decides what it may do: send-receive, send-only, receive-only, or
 * encrypted-storage (ciphertext blocks and sealed records only). The index
 * lives in the folder's own SQLite database (index-db.ts), saved in batches.
 *
 * This file wires the parts, each in its own module as Syncthing's lib/model
 * is cut (folder-state.ts lists them); it holds the lifecycle and the public API.
 */
import fs from 'node:fs';
import type { Connection } from '../transport/index.js';
import { SyncError } from '../errors.js';
import { FolderState, RECONCILE_INTERVAL_MS, TMP_REL, type LocalChange, type Progress } from './folder-state.js';
import { load, save } from './index-store.js';
import { scan, startWatcher } from './local-scan.js';
import { attach, broadcast, scheduleBroadcast, sendFinal } from './index-exchange.js';
import { pump } from './puller.js';
import { localChanges, revert } from './local-changes.js';
import { checkSynced, listFiles, peersHolding, progress, sampleRate } from './status.js';

export type { FolderMode, FileEvent, FileDeletedEvent, LocalChange, FolderSyncedEvent, FolderErrorEvent, Progress, FolderOptions, FolderEvents } from './folder-state.js';
export { fileMode } from './util.js';

export class Folder extends FolderState {
  async open(): Promise<void> {
    await fs.promises.mkdir(this.root, { recursive: true });
    // The engine's own temp folder must be a real folder (mkdirp refuses a symlink on the way).
    if (this.plainLevel) this.fsa.mkdirp(TMP_REL);
    await load(this);
    this.timers.push(setInterval(() => sampleRate(this), 1000));
    if (this.canPublish) {
      const watching = this.opts.watch !== false && (await startWatcher(this));
      // The watcher reports what changes; the full walk (stat only: a file is hashed
      // again only if its size, mtime, inode or mode changed) runs at start and then
      // rarely, to catch what a watcher can miss. Without a watcher, every minute.
      const iv = this.opts.rescanIntervalMs ?? (watching ? RECONCILE_INTERVAL_MS : 60_000);
      if (iv > 0) this.timers.push(setInterval(() => void scan(this), iv));
      // The first scan runs in the background: peers may connect and pull what
      // is already hashed. The final index flag waits for it (see sendFinal).
      this.initialScan = scan(this).then(() => {
        this.scannedOnce = true;
        broadcast(this);
        for (const l of this.links) sendFinal(this, l);
        pump(this);
        checkSynced(this);
      });
    } else this.scannedOnce = true;
  }

  /** Resolves when the first full scan is done (immediately for non-publishing folders). */
  whenScanned(): Promise<void> {
    return this.initialScan;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    if (this.broadcastTimer) clearTimeout(this.broadcastTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const l of [...this.links]) l.conn.destroy(new SyncError('CLOSED', 'folder removed'));
    for (const q of this.blockQueue.splice(0)) q.reject(new SyncError('CLOSED', 'folder closed'));
    if (this.watcherSub) await this.watcherSub.unsubscribe().catch(() => undefined);
    await Promise.all([...this.progressFlushers].map((f) => f().catch(() => undefined)));
    if (this.saveTimer) clearTimeout(this.saveTimer);
    await save(this);
    this.db?.close();
    this.db = null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  scheduleBroadcast(): void {
    scheduleBroadcast(this);
  }

  /** Scan the whole folder, or only the given absolute paths (from the watcher). */
  scan(only?: string[]): Promise<void> {
    return scan(this, only);
  }

  /** Take over an authenticated connection to a member of this folder. */
  attach(conn: Connection): void {
    attach(this, conn);
  }

  /** What differs on disk from the published versions (receive-only folders). */
  localChanges(): Promise<LocalChange[]> {
    return localChanges(this);
  }

  /** Restore the published versions in a receive-only folder. */
  revert(): Promise<LocalChange[]> {
    return revert(this);
  }

  progress(): Progress {
    return progress(this);
  }

  /** The connected peers whose index holds this folder's current version of `rel`. */
  peersHolding(rel: string): string[] {
    return peersHolding(this, rel);
  }

  listFiles(): ReturnType<typeof listFiles> {
    return listFiles(this);
  }
}
