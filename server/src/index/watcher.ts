import path from 'node:path';
import watcher from '@parcel/watcher';

/**
 * Watches folders with @parcel/watcher (inotify per *folder*, not per file as chokidar and
 * fs.watch do: see docs/ARCHITECTURE.md, "the watcher is the scale risk"), and hands changed
 * absolute paths to `onPaths` after `debounceMs` of quiet, so bursts become one batch.
 */
export class FolderWatcher {
  private subs: watcher.AsyncSubscription[] = [];
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly debounceMs: number,
    private readonly onPaths: (paths: string[]) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  async watch(dir: string): Promise<void> {
    const sub = await watcher.subscribe(
      dir,
      (err, events) => {
        if (err) return this.onError(err);
        for (const e of events) this.pending.add(e.path);
        this.schedule();
      },
      { ignore: ['**/.burrow-sync/**'] },
    );
    this.subs.push(sub);
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flushNow(), this.debounceMs);
  }

  /** Deliver whatever is pending now (tests and shutdown use it). */
  flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const paths = [...this.pending].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
    this.pending.clear();
    this.onPaths(paths);
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.subs.map((s) => s.unsubscribe()));
    this.subs = [];
  }
}

export function relativeInside(base: string, abs: string): string | null {
  const rel = path.relative(base, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return rel.split(path.sep).join('/');
}
