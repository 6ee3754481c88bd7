/**
 * npm run bench:dedupe — Burrow's dedupe against jdupes -r -L and rdfind -makehardlinks true,
 * plus the storage balancer freeing room on a device at its limit.
 *
 * 1. First run: a generated tree of ~20,000 files (~1.5 GiB; ~20% duplicated 1-3 times across
 *    folders, same-size decoys with equal head and tail, zero-length files). Each tool gets a
 *    fresh `cp -a` copy and a cold page cache (drop_caches when permitted). Burrow runs as the
 *    CLI (`burrow dedupe`, which scans files/, hashes what it needs, compares, links).
 * 2. Second run: an already-deduped tree of 200,000 files with Burrow's index current (as the
 *    NAS keeps it), Burrow's nightly job (in process, and the CLI with --no-scan) vs jdupes on a
 *    `cp -a` copy (which keeps the hard links).
 * 3. A sha256 list of every path after every tool's run, compared with the list before.
 * 4. Balancer: a device at its limit asks for a large file; time for makeRoom to free the space.
 *
 * Environment: BENCH_REPS (3), BENCH_DIR (/tmp/burrow-dedupe-bench), BENCH_SEED (7),
 * BENCH_ONLY=first,second,balance. Progress on stderr; the markdown tables on stdout.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { initRoot, openRoot } from '../server/src/root/open-root.js';
import { scanRoot } from '../server/src/index/scanner.js';
import { dedupeJob } from '../server/src/jobs/run-jobs.js';
import { makeRoom } from '../server/src/jobs/balance.js';
import { addDevice } from '../server/src/devices/add-device.js';
import type { DedupeReport } from '../server/src/jobs/dedupe.js';
import { median, fmtMs, fmtRatio, fmtMB, markdownTable, verdict } from './lib/stats.js';
import { prng } from './lib/tree.js';

const REPS = Number(process.env.BENCH_REPS ?? 3);
const BASE = process.env.BENCH_DIR ?? '/tmp/burrow-dedupe-bench';
const SEED = Number(process.env.BENCH_SEED ?? 7);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'first,second,balance').split(','));
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const cli = path.join(repo, 'bin', 'burrow.js');
const KiB = 1024;
const MiB = 1024 * KiB;
const OLD = new Date('2024-03-01T00:00:00Z');

const log = (msg: string) => process.stderr.write(`[bench:dedupe ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---------- tree generation ----------

function seededPool(seed: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  const key = crypto.createHash('sha256').update(`pool:${seed}`).digest();
  const c = crypto.createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  c.update(out).copy(out);
  return out;
}

interface TreeSpec {
  uniqueSmall: number;
  smallMin: number;
  smallMax: number;
  uniqueBig: number;
  bigMin: number;
  bigMax: number;
  originals: number; // how many unique files get 1-3 copies elsewhere
  decoyPairs: number; // same size, same first/last 64 KiB, different middle (or just different, when small)
  empty: number;
  dirs: number;
}

interface TreeInfo {
  files: number;
  bytes: number;
  copies: number;
  copyBytes: number;
}

/** Deterministic content: a slice of the pool at a seeded offset, stamped with a unique id in the middle. */
function content(pool: Buffer, rnd: () => number, size: number, id: string): Buffer {
  const off = Math.floor(rnd() * (pool.length - size - 1));
  const b = Buffer.from(pool.subarray(off, off + size));
  const stamp = crypto.createHash('sha256').update(id).digest();
  stamp.copy(b, Math.max(0, Math.floor(size / 2) - 16), 0, Math.min(32, size));
  return b;
}

function generate(dir: string, spec: TreeSpec, seed: number): TreeInfo {
  const rnd = prng(seed);
  const pool = seededPool(seed, 64 * MiB);
  const info: TreeInfo = { files: 0, bytes: 0, copies: 0, copyBytes: 0 };
  const folder = (i: number) => `d${String(i % spec.dirs).padStart(3, '0')}/s${Math.floor(i / spec.dirs) % 7}`;
  const made = new Set<string>();
  const write = (rel: string, b: Buffer) => {
    const abs = path.join(dir, rel);
    const d = path.dirname(abs);
    if (!made.has(d)) {
      fs.mkdirSync(d, { recursive: true });
      made.add(d);
    }
    fs.writeFileSync(abs, b);
    fs.utimesSync(abs, OLD, OLD);
    info.files++;
    info.bytes += b.length;
  };
  const uniques: Array<{ rel: string; size: number; id: string }> = [];
  let n = 0;
  const total = spec.uniqueSmall + spec.uniqueBig;
  const bigEvery = spec.uniqueBig > 0 ? Math.max(1, Math.floor(total / spec.uniqueBig)) : Infinity;
  let bigs = 0;
  for (let i = 0; i < total; i++) {
    const big = i % bigEvery === 0 && bigs < spec.uniqueBig;
    if (big) bigs++;
    const size = big ? spec.bigMin + Math.floor(rnd() * (spec.bigMax - spec.bigMin)) : spec.smallMin + Math.floor(rnd() * (spec.smallMax - spec.smallMin));
    const rel = `${folder(n++)}/f${i}.dat`;
    const id = `u${i}`;
    write(rel, content(pool, rnd, size, id));
    uniques.push({ rel, size, id });
  }
  // Copies of some originals, 1-3 each, in other folders (same bytes: copy the file).
  for (let k = 0; k < spec.originals; k++) {
    const src = uniques[Math.floor((k * uniques.length) / spec.originals)]!;
    const copies = 1 + Math.floor(rnd() * 3);
    const b = fs.readFileSync(path.join(dir, src.rel));
    for (let c = 0; c < copies; c++) {
      write(`${folder(n++ + 3)}/copy-${k}-${c}.dat`, b);
      info.copies++;
      info.copyBytes += b.length;
    }
  }
  // Decoys: pairs of equal size; the larger ones share head and tail so only a full read tells them apart.
  for (let k = 0; k < spec.decoyPairs; k++) {
    const size = k % 2 === 0 ? 256 * KiB + Math.floor(rnd() * 512 * KiB) : spec.smallMin + Math.floor(rnd() * (spec.smallMax - spec.smallMin));
    const a = content(pool, rnd, size, `decoy${k}`);
    const b = Buffer.from(a);
    b[Math.floor(size / 2) + 7] = b[Math.floor(size / 2) + 7]! ^ 0x5a;
    write(`${folder(n++)}/decoy-${k}-a.dat`, a);
    write(`${folder(n++ + 11)}/decoy-${k}-b.dat`, b);
  }
  for (let k = 0; k < spec.empty; k++) write(`${folder(n++)}/empty-${k}.txt`, Buffer.alloc(0));
  return info;
}

/** The tree once per spec and seed, cached under BASE (regenerated if the marker is missing). */
function ensureTree(name: string, spec: TreeSpec): { dir: string; info: TreeInfo } {
  const dir = path.join(BASE, `${name}-${SEED}`);
  const marker = path.join(BASE, `${name}-${SEED}.json`);
  if (fs.existsSync(marker) && fs.existsSync(dir)) return { dir, info: JSON.parse(fs.readFileSync(marker, 'utf8')) as TreeInfo };
  fs.rmSync(dir, { recursive: true, force: true });
  log(`generating ${name} ...`);
  const t0 = performance.now();
  const info = generate(dir, spec, SEED);
  fs.writeFileSync(marker, JSON.stringify(info));
  log(`generated ${info.files} files, ${fmtMB(info.bytes)} in ${fmtMs(performance.now() - t0)}`);
  return { dir, info };
}

// ---------- measuring ----------

/** sha256 of every regular file (path → hex), and the link accounting of the tree. */
function treeState(dir: string): { sums: Map<string, string>; paths: number; pathBytes: number; inodes: number; inodeBytes: number } {
  const sums = new Map<string, string>();
  const seen = new Set<number>();
  let paths = 0;
  let pathBytes = 0;
  let inodeBytes = 0;
  const buf = Buffer.allocUnsafe(MiB);
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const abs = path.join(d, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.isFile()) {
        const st = fs.lstatSync(abs);
        paths++;
        pathBytes += st.size;
        if (!seen.has(st.ino)) {
          seen.add(st.ino);
          inodeBytes += st.size;
        }
        const h = crypto.createHash('sha256');
        const fd = fs.openSync(abs, 'r');
        for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
        fs.closeSync(fd);
        sums.set(path.relative(dir, abs), h.digest('hex'));
      }
    }
  };
  walk(dir);
  return { sums, paths, pathBytes, inodes: seen.size, inodeBytes };
}

function differences(a: Map<string, string>, b: Map<string, string>): number {
  let d = 0;
  for (const [p, s] of a) if (b.get(p) !== s) d++;
  for (const p of b.keys()) if (!a.has(p)) d++;
  return d;
}

let dropCaches: boolean | null = null;
function coldCache(): void {
  if (dropCaches === false) return;
  try {
    execFileSync('sync');
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
    dropCaches = true;
  } catch {
    dropCaches = false;
  }
}

function timed(cmd: string, args: string[], cwd?: string): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 512 * MiB, env: { ...process.env, BURROW_LOG_LEVEL: 'warn' } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

function freshCopy(src: string, dst: string): void {
  fs.rmSync(dst, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  execFileSync('cp', ['-a', src, dst]);
}

interface ToolRun {
  ms: number;
  linked: number;
  saved: number;
  diffs: number;
  hashMs?: number;
  linkMs?: number;
  scanMs?: number;
}

// ---------- 1. first run ----------

const tables: string[] = [];
const notes: string[] = [];

function firstRun(): void {
  const spec: TreeSpec = { uniqueSmall: 15_400, smallMin: 1 * KiB, smallMax: 80 * KiB, uniqueBig: 70, bigMin: 3 * MiB, bigMax: 9 * MiB, originals: 2_000, decoyPairs: 200, empty: 200, dirs: 220 };
  const { dir: src, info } = ensureTree('tree20k', spec);
  log('hashing the source tree for the sha256 list');
  const before = treeState(src);
  notes.push(`First-run tree: ${before.paths} files, ${fmtMB(before.pathBytes)} (${(before.pathBytes / 2 ** 30).toFixed(2)} GiB), ${info.copies} duplicate copies (${fmtMB(info.copyBytes)}), ${spec.decoyPairs} same-size decoy pairs, ${spec.empty} empty files, ${spec.dirs * 7} folders.`);
  const work = path.join(BASE, 'work');
  const runs: Record<'burrow' | 'jdupes' | 'rdfind', ToolRun[]> = { burrow: [], jdupes: [], rdfind: [] };
  for (let rep = 0; rep < REPS; rep++) {
    for (const tool of ['burrow', 'jdupes', 'rdfind'] as const) {
      let treeDir: string;
      if (tool === 'burrow') {
        const root = path.join(work, 'burrow-root');
        fs.rmSync(root, { recursive: true, force: true });
        initRoot(root);
        fs.rmdirSync(path.join(root, 'files'));
        freshCopy(src, path.join(root, 'files'));
        treeDir = path.join(root, 'files');
        coldCache();
        const r = timed(process.execPath, [cli, 'dedupe', '--root', root, '--json']);
        const rep_ = JSON.parse(r.stdout) as DedupeReport & { scan: { elapsedMs: number } };
        const st = treeState(treeDir);
        runs.burrow.push({ ms: r.ms, linked: st.paths - st.inodes, saved: st.pathBytes - st.inodeBytes, diffs: differences(before.sums, st.sums), hashMs: rep_.timings.hashMs, linkMs: rep_.timings.compareAndLinkMs, scanMs: rep_.scan.elapsedMs });
        if (rep_.bytesSaved !== st.pathBytes - st.inodeBytes) notes.push(`rep ${rep}: burrow reported ${rep_.bytesSaved} bytes saved, the disk shows ${st.pathBytes - st.inodeBytes}`);
        fs.rmSync(root, { recursive: true, force: true });
      } else {
        treeDir = path.join(work, `${tool}-tree`);
        freshCopy(src, treeDir);
        coldCache();
        const r = tool === 'jdupes' ? timed('jdupes', ['-r', '-L', '-q', treeDir]) : timed('rdfind', ['-makehardlinks', 'true', '-outputname', path.join(work, 'rdfind-results.txt'), treeDir], work);
        const st = treeState(treeDir);
        runs[tool].push({ ms: r.ms, linked: st.paths - st.inodes, saved: st.pathBytes - st.inodeBytes, diffs: differences(before.sums, st.sums) });
        fs.rmSync(treeDir, { recursive: true, force: true });
      }
      const last = runs[tool][runs[tool].length - 1]!;
      log(`first run rep ${rep} ${tool}: ${fmtMs(last.ms)}, linked ${last.linked}, saved ${fmtMB(last.saved)}, ${last.diffs} differences`);
    }
  }
  const med = (t: keyof typeof runs, k: keyof ToolRun) => median(runs[t].map((r) => r[k] as number));
  const jd = med('jdupes', 'ms');
  tables.push(
    '### First run: 20k files, cold cache',
    markdownTable(
      ['tool', 'wall time (median)', 'vs jdupes', 'files linked', 'bytes saved', 'sha256 differences', 'goal', 'verdict'],
      [
        ['burrow dedupe (CLI: scan + hash + compare + link)', fmtMs(med('burrow', 'ms')), fmtRatio(med('burrow', 'ms') / jd), String(med('burrow', 'linked')), fmtMB(med('burrow', 'saved')), String(Math.max(...runs.burrow.map((r) => r.diffs))), '<= 1.0x jdupes, same bytes saved', `${verdict(med('burrow', 'ms') / jd, 1.0, 'max')}${med('burrow', 'saved') === med('jdupes', 'saved') ? '' : ' (bytes saved differ)'}`],
        ['jdupes -r -L', fmtMs(jd), '1.00x', String(med('jdupes', 'linked')), fmtMB(med('jdupes', 'saved')), String(Math.max(...runs.jdupes.map((r) => r.diffs))), '', ''],
        ['rdfind -makehardlinks true', fmtMs(med('rdfind', 'ms')), fmtRatio(med('rdfind', 'ms') / jd), String(med('rdfind', 'linked')), fmtMB(med('rdfind', 'saved')), String(Math.max(...runs.rdfind.map((r) => r.diffs))), '', ''],
      ],
    ),
    '',
    `Burrow's split (medians): scan ${fmtMs(med('burrow', 'scanMs'))}, hashing ${fmtMs(med('burrow', 'hashMs'))}, compare + link ${fmtMs(med('burrow', 'linkMs'))}; the rest is Node start-up, the index update and the report. Raw wall times (ms): ${(['burrow', 'jdupes', 'rdfind'] as const).map((t) => `${t} ${runs[t].map((r) => r.ms.toFixed(0)).join('/')}`).join('; ')}.`,
    '',
  );
}

// ---------- 2. second run on a deduped 200k tree ----------

async function secondRun(): Promise<void> {
  const spec: TreeSpec = { uniqueSmall: 180_000, smallMin: 256, smallMax: 6 * KiB, uniqueBig: 0, bigMin: 0, bigMax: 0, originals: 10_000, decoyPairs: 0, empty: 0, dirs: 2_000 };
  const { dir: src } = ensureTree('tree200k', spec);
  const work = path.join(BASE, 'work2');
  const root = path.join(work, 'burrow-root');
  fs.rmSync(work, { recursive: true, force: true });
  initRoot(root);
  fs.rmdirSync(path.join(root, 'files'));
  freshCopy(src, path.join(root, 'files'));
  const r = openRoot(root);
  try {
    log('200k: indexing and deduping once (the state the NAS is in at night)');
    scanRoot(r.store, r.layout);
    const first = await dedupeJob(r.store, r.layout, r.config, {});
    scanRoot(r.store, r.layout); // the watcher would have caught up on the folders' own mtimes
    log(`200k first pass: linked ${first.filesLinked}, saved ${fmtMB(first.bytesSaved)} in ${fmtMs(first.timings.totalMs)}`);
    const before = treeState(r.layout.files);
    const jdTree = path.join(work, 'jdupes-tree');
    freshCopy(r.layout.files, jdTree); // cp -a keeps the hard links: jdupes sees the deduped tree
    const jdState = treeState(jdTree);
    if (jdState.inodes !== before.inodes) notes.push(`cp -a copy of the 200k tree has ${jdState.inodes} inodes, the original ${before.inodes}`);
    const inproc: number[] = [];
    const viaCli: number[] = [];
    const jd: number[] = [];
    let linkedAgain = 0;
    for (let rep = 0; rep < REPS; rep++) {
      // Warm cache for all: at night the NAS has just been indexing; jdupes gets the same warm tree.
      const t0 = performance.now();
      const rep2 = await dedupeJob(r.store, r.layout, r.config, {});
      inproc.push(performance.now() - t0);
      linkedAgain += rep2.filesLinked;
      viaCli.push(timed(process.execPath, [cli, 'dedupe', '--root', root, '--no-scan', '--json']).ms);
      jd.push(timed('jdupes', ['-r', '-L', '-q', jdTree]).ms);
      log(`second run rep ${rep}: burrow job ${fmtMs(inproc[rep]!)}, burrow CLI --no-scan ${fmtMs(viaCli[rep]!)}, jdupes ${fmtMs(jd[rep]!)}`);
    }
    const after = treeState(r.layout.files);
    const jdAfter = treeState(jdTree);
    const j = median(jd);
    tables.push(
      `### Second run: ${before.paths} files, already deduped, index current, warm cache`,
      markdownTable(
        ['tool', 'wall time (median)', 'vs jdupes', 'files linked', 'sha256 differences', 'goal', 'verdict'],
        [
          ['burrow nightly job (in the NAS process, index current)', fmtMs(median(inproc)), fmtRatio(median(inproc) / j), String(linkedAgain), String(differences(before.sums, after.sums)), '<= 0.25x jdupes', verdict(median(inproc) / j, 0.25, 'max')],
          ['burrow dedupe --no-scan (CLI, incl. Node start-up)', fmtMs(median(viaCli)), fmtRatio(median(viaCli) / j), '0', '', '', verdict(median(viaCli) / j, 0.25, 'max')],
          ['jdupes -r -L', fmtMs(j), '1.00x', String(jdAfter.paths - jdAfter.inodes - (jdState.paths - jdState.inodes)), String(differences(jdState.sums, jdAfter.sums)), '', ''],
        ],
      ),
      '',
      `Raw (ms): job ${inproc.map((x) => x.toFixed(0)).join('/')}; CLI ${viaCli.map((x) => x.toFixed(0)).join('/')}; jdupes ${jd.map((x) => x.toFixed(0)).join('/')}. First pass on this tree (hashing all 200k candidates, then linking): ${fmtMs(first.timings.totalMs)}.`,
      '',
    );
  } finally {
    r.close();
  }
}

// ---------- 3. balancer ----------

function balancer(): void {
  const work = path.join(BASE, 'work3');
  const times: number[] = [];
  let evicted = 0;
  let freed = 0;
  const FILES = 20_000;
  for (let rep = 0; rep < REPS; rep++) {
    fs.rmSync(work, { recursive: true, force: true });
    const root = path.join(work, 'root');
    initRoot(root);
    const r = openRoot(root);
    try {
      addDevice(r, 'phone', null);
      const dev = r.layout.device('phone');
      const body = Buffer.alloc(64 * KiB, 3);
      for (let i = 0; i < FILES; i++) {
        const rel = `m${i % 100}/f${i}.bin`;
        const abs = path.join(r.layout.files, rel);
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        fs.writeFileSync(abs, body);
        fs.utimesSync(abs, new Date(1_600_000_000_000 + i * 1000), new Date(1_600_000_000_000 + i * 1000));
        fs.mkdirSync(path.dirname(path.join(dev, rel)), { recursive: true });
        fs.linkSync(abs, path.join(dev, rel));
      }
      const big = path.join(r.layout.files, 'video/large.mkv');
      fs.mkdirSync(path.dirname(big), { recursive: true });
      fs.writeFileSync(big, Buffer.alloc(1)); // its size is what the get asks for, below
      scanRoot(r.store, r.layout);
      for (let i = 0; i < FILES; i += 2) r.store.usage.touch('phone', `m${i % 100}/f${i}.bin`, 1_700_000_000_000 + i, 'opened');
      const used = r.store.usage.usedBytes('phone');
      r.store.devices.setQuota('phone', used); // at its limit
      const want = 500 * MiB; // a large file: ~40% of the device's files must go
      const t0 = performance.now();
      const res = makeRoom(r.store, r.layout, 'phone', want, ['video/large.mkv'], {
        refresh: (paths) => {
          // what the CLI and NAS do: bring the index in line with the removed links
          r.store.tx(() => {
            for (const p of paths) r.store.entries.remove(`device:phone`, path.relative(dev, p));
          });
        },
      });
      times.push(performance.now() - t0);
      if (!res.ok) throw new Error(`balancer failed: ${res.reason}`);
      evicted = res.evicted.length;
      freed = res.freedBytes;
      log(`balancer rep ${rep}: evicted ${evicted} links (${fmtMB(freed)}) in ${fmtMs(times[rep]!)}`);
    } finally {
      r.close();
    }
  }
  tables.push(
    '### Balancer: device at its limit asks for a 500 MiB file',
    markdownTable(
      ['scenario', 'time to free the space (median)', 'links removed', 'freed'],
      [[`${FILES} linked files of 64 KiB on the device, half with a recorded use`, fmtMs(median(times)), String(evicted), fmtMB(freed)]],
    ),
    '',
    `Raw (ms): ${times.map((x) => x.toFixed(0)).join('/')}. Includes planning from the index, unlinking, removing emptied folders and updating the index.`,
    '',
  );
}

async function main(): Promise<void> {
  fs.mkdirSync(BASE, { recursive: true });
  for (const tool of ['jdupes', 'rdfind']) {
    if (spawnSync(tool, ['--version']).error) throw new Error(`${tool} is not installed: apt-get install ${tool}`);
  }
  if (ONLY.has('first')) firstRun();
  if (ONLY.has('second')) await secondRun();
  if (ONLY.has('balance')) balancer();
  const cache = dropCaches === true ? 'page cache dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before every cold run' : dropCaches === false ? 'drop_caches NOT permitted: cold runs had whatever the page cache held' : 'no cold runs';
  process.stdout.write(
    [`## Dedupe and balancer benchmark (${REPS} reps, medians; ${cache}; ${process.env.BENCH_NOTE ?? ''})`, '', ...tables, ...notes.map((n) => `- ${n}`), ''].join('\n'),
  );
}

await main();
