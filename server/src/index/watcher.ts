import fs from 'node:fs';
import path from 'node:path';

/** Folders the watcher never enters: the sync engine's scratch space. */
const IGNORED_DIR = '.burrow-sync';

/**
 * Watches folder trees with one fs.watch (one inotify watch) per *folder*, never per file, and
 * hands changed absolute paths to `onPaths` after `debounceMs` of quiet, so bursts become one
 * batch. Measured at 200k files (npm run bench:index): chokidar needs a watch per file and runs
 * out of inotify watches; @parcel/watcher keeps its own copy of the whole tree (~70 MB at 200k
 * files); per-folder fs.watch costs about a kilobyte per folder. A folder created while running
 * is reported (the indexer rescans it) and watched; a folder removed or moved away is dropped.
 * If the kernel's watch limit is reached, onError says so once and the periodic reconcile covers.
 */
export class FolderWatcher {
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private limitReported = false;
  private closed = false;

  constructor(
    private readonly debounceMs: number,
    private readonly onPaths: (paths: string[]) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Watch `dir` and every folder below it (symlinks are not followed). */
  async watch(dir: string): Promise<void> {
    this.addTree(path.resolve(dir));
  }

  /** How many folders are watched (one inotify watch each). */
  get watchedFolders(): number {
    return this.watchers.size;
  }

  private addTree(root: string): void {
    const stack = [root];
    while (stack.length > 0 && !this.closed) {
      const dir = stack.pop()!;
      if (this.watchers.has(dir) || path.basename(dir) === IGNORED_DIR) continue;
      let w: fs.FSWatcher;
      try {
        w = fs.watch(dir, { persistent: true }, (event, name) => this.onEvent(dir, event, name));
      } catch (err) {
        this.watchFailed(dir, err);
        continue;
      }
      w.on('error', () => this.unwatchTree(dir)); // the folder went away under its watch
      this.watchers.set(dir, w);
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        continue; // unreadable or gone: the scanner records why
      }
      for (const e of entries) if (e.isDirectory()) stack.push(dir + path.sep + e.name);
    }
  }

  private watchFailed(dir: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return; // gone before we got to it
    if (code === 'ENOSPC') {
      if (this.limitReported) return;
      this.limitReported = true;
      this.onError(
        Object.assign(new Error(`the kernel's inotify watch limit is reached (at ${this.watchers.size} watched folders); folders past it are not watched, and the periodic reconcile picks up their changes. Raise fs.inotify.max_user_watches (sysctl) to watch them all.`), { code }),
      );
      return;
    }
    this.onError(Object.assign(new Error(`cannot watch ${dir}: ${(err as Error).message}`), { code }));
  }

  private onEvent(dir: string, event: string, name: string | Buffer | null): void {
    if (this.closed) return;
    if (name === null || name === undefined) {
      // The kernel did not say which entry (queue overflow): have the whole folder re-read.
      this.add(dir);
      return;
    }
    const base = name.toString();
    if (base === IGNORED_DIR) return;
    const abs = dir + path.sep + base;
    // 'rename' is how inotify reports creation, deletion and moves: the moments a folder can
    // appear in or vanish from the tree. Content changes ('change') need no folder bookkeeping.
    if (event === 'rename') {
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(abs, { throwIfNoEntry: false });
      } catch {
        st = undefined;
      }
      if (st?.isDirectory()) this.addTree(abs);
      else if (this.watchers.has(abs)) this.unwatchTree(abs);
      else if (!st && base === path.basename(dir) && !fs.existsSync(dir)) {
        // The watched folder itself went away (inotify names it after itself): report the folder.
        this.unwatchTree(dir);
        this.add(dir);
        return;
      }
    }
    this.add(abs);
  }

  private unwatchTree(dir: string): void {
    const prefix = dir + path.sep;
    for (const [d, w] of this.watchers) {
      if (d === dir || d.startsWith(prefix)) {
        w.close();
        this.watchers.delete(d);
      }
    }
  }

  private add(abs: string): void {
    this.pending.add(abs);
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
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}

export function relativeInside(base: string, abs: string): string | null {
  const rel = path.relative(base, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return rel.split(path.sep).join('/');
}
