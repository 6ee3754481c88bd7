import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { initRoot, openRoot, type OpenRoot } from '../../server/src/root/open-root.js';
import { scanRoot } from '../../server/src/index/scanner.js';
import { tempDir } from '../helpers/tmp.js';

/** An old mtime, so the dedupe's "modified too recently" rule does not apply. */
export const OLD = new Date('2024-01-02T03:04:05Z');

export interface JobsRoot {
  dir: string;
  r: OpenRoot;
  cleanup(): void;
}

export function jobsRoot(): JobsRoot {
  const t = tempDir('burrow-jobs-');
  initRoot(t.dir);
  const r = openRoot(t.dir);
  return {
    dir: t.dir,
    r,
    cleanup: () => {
      r.close();
      t.cleanup();
    },
  };
}

/** Write a file under `base` with an old mtime (or the given one). */
export function put(base: string, rel: string, content: string | Buffer, mtime: Date = OLD): string {
  const abs = path.join(base, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, content);
  fs.utimesSync(abs, mtime, mtime);
  return abs;
}

/** Hard-link an existing file to a new path (creating folders), like the orchestrator does. */
export function link(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.linkSync(from, to);
}

export function rescan(j: JobsRoot): void {
  scanRoot(j.r.store, j.r.layout);
}

/** Deterministic pseudo-random bytes (so tests are repeatable). */
export function bytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  let off = 0;
  let i = 0;
  while (off < n) {
    const h = crypto.createHash('sha256').update(`${seed}:${i++}`).digest();
    off += h.copy(out, off);
  }
  return out;
}

/** sha256 of every regular file under dir (relative path → hex); a root's own .burrow/ state is left out. */
export function shaList(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const abs = path.join(d, e.name);
      if (e.isDirectory()) {
        if (d === dir && e.name === '.burrow') continue;
        walk(abs);
      }
      else if (e.isFile()) out.set(path.relative(dir, abs), crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

export function inode(abs: string): number {
  return fs.lstatSync(abs).ino;
}

export function tempLeftovers(dir: string): string[] {
  return [...shaList(dir).keys()].filter((p) => path.basename(p).startsWith('.burrow-tmp-'));
}
