import crypto from 'node:crypto';
import { anchoredAt, type AnchoredDir } from '../anchored-fs/index.js';

export interface WriteStats {
  totalFiles: number;
  totalBytes: number;
  writtenFiles: number;
  writtenBytes: number;
  removedFiles: number;
  /** Which files were rewritten (relative to catalogue/), for tests and logs. */
  written: string[];
}

/** Files the writer owns and may delete when a publish no longer produces them. */
const OWNED = [
  { dir: 'data', match: (f: string) => /^c-[\w-]+\.js$/.test(f) },
  { dir: 'devices', match: (f: string) => f.endsWith('.js') },
];

/**
 * Writes a catalogue output set into catalogue/: only files whose bytes changed are rewritten
 * (each atomically), the manifest after the shards it names, and stale shards removed last, so
 * a page opened mid-publish always finds every shard its manifest lists.
 */
export class CatalogueWriter {
  /** sha1 of what we last wrote per file, so an unchanged shard costs no disk read. */
  private readonly digests = new Map<string, string>();
  /** Size of every file the catalogue holds, so an incremental write can still report the total. */
  private readonly sizes = new Map<string, number>();
  private totalBytes = 0;
  /** Every write and removal goes through anchored-fs, held inside catalogue/. */
  private readonly fs: AnchoredDir;

  constructor(dir: string) {
    this.fs = anchoredAt(dir);
  }

  /**
   * Write a whole catalogue as it is rendered: `shard` takes each shard as it is cut (shards go
   * first anyway), `finish` the rest; any owned file the catalogue no longer produces is removed.
   */
  begin(): { shard(rel: string, body: string): void; finish(files: Map<string, string>): WriteStats } {
    const stats = emptyStats();
    const streamed = new Set<string>();
    return {
      shard: (rel, body) =>
        void this.guarded(() => {
          streamed.add(rel);
          this.writeOne(rel, body, stats);
          return stats;
        }),
      finish: (files) => this.guarded(() => this.writeAll(files, streamed, stats)),
    };
  }

  /**
   * Write part of a catalogue (an incremental publish): these files, in the same safe order, then
   * remove the named files that no longer belong to it.
   */
  writeDelta(files: Map<string, string>, removed: readonly string[]): WriteStats {
    return this.guarded(() => {
      const stats = this.writeFiles(files);
      for (const rel of removed) {
        if (files.has(rel)) continue;
        if (this.fs.lstat(rel)) this.fs.unlink(rel);
        this.forget(rel);
        stats.removedFiles++;
      }
      return this.withTotals(stats);
    });
  }

  private guarded(fn: () => WriteStats): WriteStats {
    try {
      return fn();
    } catch (err) {
      // After a failed write the disk may hold anything; the next publish checks every file again.
      this.digests.clear();
      this.sizes.clear();
      this.totalBytes = 0;
      throw err;
    }
  }

  private forget(rel: string): void {
    this.digests.delete(rel);
    this.totalBytes -= this.sizes.get(rel) ?? 0;
    this.sizes.delete(rel);
  }

  private withTotals(stats: WriteStats): WriteStats {
    stats.totalFiles = this.sizes.size;
    stats.totalBytes = this.totalBytes;
    return stats;
  }

  private writeFiles(files: Map<string, string>, stats: WriteStats = emptyStats()): WriteStats {
    const order = [...files.keys()].sort((a, b) => rank(a) - rank(b));
    for (const rel of order) this.writeOne(rel, files.get(rel)!, stats);
    return stats;
  }

  private writeOne(rel: string, body: string, stats: WriteStats): void {
    const buf = Buffer.from(body);
    this.totalBytes += buf.length - (this.sizes.get(rel) ?? 0);
    this.sizes.set(rel, buf.length);
    const digest = crypto.createHash('sha1').update(buf).digest('hex');
    if (this.digests.get(rel) === digest) return;
    if (this.fs.writeFileAtomic(rel, buf, { skipIfSame: true })) {
      stats.writtenFiles++;
      stats.writtenBytes += buf.length;
      stats.written.push(rel);
    }
    this.digests.set(rel, digest);
  }

  /** `streamed`: the shards already written by this publish (see begin). */
  private writeAll(files: Map<string, string>, streamed: ReadonlySet<string>, stats: WriteStats): WriteStats {
    const keeps = (rel: string) => files.has(rel) || streamed.has(rel);
    for (const rel of [...this.sizes.keys()]) if (!keeps(rel)) this.forget(rel);
    this.writeFiles(files, stats);
    for (const { dir, match } of OWNED) {
      let names: string[];
      try {
        names = this.fs.readdir(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const rel = `${dir}/${name}`;
        if (!match(name) || keeps(rel)) continue;
        if (this.fs.lstat(rel)) this.fs.unlink(rel);
        this.forget(rel);
        stats.removedFiles++;
      }
    }
    return this.withTotals(stats);
  }
}

const emptyStats = (): WriteStats => ({ totalFiles: 0, totalBytes: 0, writtenFiles: 0, writtenBytes: 0, removedFiles: 0, written: [] });

/** Shards first, then per-device state, then the summary and manifest, the page last. */
function rank(rel: string): number {
  if (rel.startsWith('data/c-')) return 0;
  if (rel.startsWith('devices/')) return 1;
  if (rel === 'data/summary.js') return 2;
  if (rel === 'data/index.js') return 3;
  return 4;
}
