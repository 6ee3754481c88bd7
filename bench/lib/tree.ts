import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

/** One class of files in a generated tree: `count` files with sizes uniform in [minBytes, maxBytes]. */
export interface SizeClass {
  count: number;
  minBytes: number;
  maxBytes: number;
}

export interface TreeSpec {
  seed: number;
  classes: SizeClass[];
  /** Files per leaf folder (folders are two levels deep under the tree root). */
  filesPerDir: number;
}

export interface TreeInfo {
  dir: string;
  files: number;
  dirs: number;
  bytes: number;
  /** Relative paths of every file, in generation order. */
  list(): string[];
  /** Whether this call generated the tree (false: reused from the cache). */
  generatedNow: boolean;
  generateMs: number;
}

import { prng } from '../../server/src/util/prng.js';
export { prng };

const POOL_BYTES = 32 * 1024 * 1024;

/** Deterministic incompressible bytes: SHA-256 in counter mode over the seed. */
function contentPool(seed: number): Buffer {
  const pool = Buffer.allocUnsafe(POOL_BYTES);
  const ctr = Buffer.alloc(12);
  ctr.writeUInt32BE(seed >>> 0, 0);
  for (let off = 0, i = 0; off < POOL_BYTES; off += 32, i++) {
    ctr.writeUInt32BE(i, 8);
    crypto.createHash('sha256').update(ctr).digest().copy(pool, off);
  }
  return pool;
}

function specKey(spec: TreeSpec): string {
  return crypto.createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 12);
}

/** Relative path of file number i: `dNNN/sNN/fNNNNNN.bin`, about `filesPerDir` per leaf folder. */
function fileRel(i: number, spec: TreeSpec, leafDirs: number): string {
  const leaf = Math.floor(i / spec.filesPerDir);
  const fanout = Math.max(1, Math.ceil(Math.sqrt(leafDirs)));
  const top = Math.floor(leaf / fanout);
  const sub = leaf % fanout;
  return `d${String(top).padStart(3, '0')}/s${String(sub).padStart(3, '0')}/f${String(i).padStart(7, '0')}.bin`;
}

/**
 * Generate (or reuse) a deterministic tree under `<cacheBase>/<name>-<key>/<subdir>`. The key
 * hashes the spec, so a changed spec or seed gets a new tree; a marker written last means a tree
 * interrupted halfway is regenerated instead of trusted. File sizes are drawn per class, then the
 * classes are interleaved so big files are spread over the folders.
 */
export function ensureTree(cacheBase: string, name: string, spec: TreeSpec, subdir = ''): TreeInfo {
  const base = path.join(cacheBase, `${name}-${specKey(spec)}`);
  const dir = subdir ? path.join(base, subdir) : base;
  const marker = path.join(base, 'tree-complete.json');
  const total = spec.classes.reduce((n, c) => n + c.count, 0);
  const leafDirs = Math.ceil(total / spec.filesPerDir);
  const rnd = prng(spec.seed);
  const sizes: number[] = [];
  for (const c of spec.classes) for (let i = 0; i < c.count; i++) sizes.push(c.minBytes + Math.floor(rnd() * (c.maxBytes - c.minBytes + 1)));
  for (let i = sizes.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [sizes[i], sizes[j]] = [sizes[j]!, sizes[i]!];
  }
  const bytes = sizes.reduce((a, b) => a + b, 0);
  const list = () => sizes.map((_, i) => fileRel(i, spec, leafDirs));
  const dirCount = () => new Set(list().map((p) => p.slice(0, p.lastIndexOf('/')))).size + Math.ceil(Math.sqrt(leafDirs));
  if (fs.existsSync(marker)) return { dir, files: total, dirs: dirCount(), bytes, list, generatedNow: false, generateMs: 0 };

  const t0 = performance.now();
  fs.rmSync(base, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const pool = bytes > 0 ? contentPool(spec.seed) : Buffer.alloc(0);
  const made = new Set<string>();
  const stamp = Buffer.alloc(8);
  for (let i = 0; i < sizes.length; i++) {
    const rel = fileRel(i, spec, leafDirs);
    const parent = path.join(dir, rel.slice(0, rel.lastIndexOf('/')));
    if (!made.has(parent)) {
      fs.mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    writeContent(path.join(dir, rel), sizes[i]!, i, pool, rnd, stamp);
  }
  fs.writeFileSync(marker, JSON.stringify({ spec, files: total, bytes }) + '\n');
  return { dir, files: total, dirs: dirCount(), bytes, list, generatedNow: true, generateMs: performance.now() - t0 };
}

/** File i's bytes: its number (so no two files are equal) then slices of the pool at random offsets. */
function writeContent(file: string, size: number, i: number, pool: Buffer, rnd: () => number, stamp: Buffer): void {
  if (size === 0) {
    fs.writeFileSync(file, '');
    return;
  }
  const fd = fs.openSync(file, 'w');
  try {
    stamp.writeBigUInt64BE(BigInt(i));
    let written = fs.writeSync(fd, stamp, 0, Math.min(8, size));
    while (written < size) {
      const n = Math.min(size - written, 4 * 1024 * 1024);
      const off = Math.floor(rnd() * (pool.length - n));
      written += fs.writeSync(fd, pool, off, n);
    }
  } finally {
    fs.closeSync(fd);
  }
}
