/**
 * npm run bench:index — the index against find, sha256sum/b3sum and the watcher alternatives,
 * on a deterministic tree of 200,000 files (~2.1 GiB) cached under /tmp by seed.
 *
 * Environment: BENCH_SEED (default 2026), BENCH_REPS (5), BENCH_DIR (/tmp/burrow-bench),
 * BENCH_SKIP_1M=1 skips the 1,000,000-file RSS line, BENCH_ONLY=scan,hash,crypto,watch,rss
 * runs a subset. The NAS and the index probe run with the Node flags the `burrow` command uses
 * (--optimize-for-size; BENCH_NODE_FLAGS="" runs them without). Progress goes to stderr; the markdown table to stdout.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { blake3 } from '@noble/hashes/blake3.js';
import { openStore } from '../server/src/store/index.js';
import { initRoot } from '../server/src/root/open-root.js';
import { layoutOf, type RootLayout } from '../server/src/root/layout.js';
import { scanRoot, type ScanStats } from '../server/src/index/scanner.js';
import { hashPending } from '../server/src/index/hasher.js';
import { ensureTree, type TreeSpec } from './lib/tree.js';
import { median, fmtMs, fmtMBs, fmtRatio, fmtMB, markdownTable, verdict } from './lib/stats.js';
import { timeShell, timeInProcess, procStatusBytes, inotifyUsage, waitForLine, stopChild, type Timing } from './lib/proc.js';

const SEED = Number(process.env.BENCH_SEED ?? 2026);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const CACHE = process.env.BENCH_DIR ?? '/tmp/burrow-bench';
const ONLY = new Set((process.env.BENCH_ONLY ?? 'scan,hash,crypto,watch,rss').split(','));
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const cli = path.join(repo, 'bin', 'burrow.js');
/** As bin/burrow.js's shebang and the systemd units run Node: `node bin/burrow.js` alone would not. */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--optimize-for-size').split(' ').filter(Boolean);
const MiB = 1024 * 1024;

const log = (msg: string) => process.stderr.write(`[bench:index ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const SPEC_200K: TreeSpec = {
  seed: SEED,
  filesPerDir: 100,
  classes: [
    { count: 198_997, minBytes: 0, maxBytes: 6 * 1024 }, // documents, notes, thumbnails
    { count: 1_000, minBytes: 256 * 1024, maxBytes: 2 * MiB }, // photos, songs
    { count: 3, minBytes: 100 * MiB, maxBytes: 200 * MiB }, // videos, disk images
  ],
};
const SPEC_1M: TreeSpec = { seed: SEED, filesPerDir: 100, classes: [{ count: 1_000_000, minBytes: 0, maxBytes: 0 }] };

interface Row {
  measure: string;
  burrow: string;
  reference: string;
  ratio: string;
  goal: string;
  verdict: string;
}
const rows: Row[] = [];
const notes: string[] = [];

/** A fresh, migrated database file at `file` (any previous one and its WAL removed). */
function freshDb(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
  openStore(file).close();
}

function prepareRoot(spec: TreeSpec, name: string): { layout: RootLayout; base: string; tree: ReturnType<typeof ensureTree> } {
  log(`tree ${name}: ${spec.classes.reduce((n, c) => n + c.count, 0)} files (generating if not cached)`);
  const tree = ensureTree(CACHE, name, spec, 'root/files');
  if (tree.generatedNow) log(`tree ${name} generated in ${fmtMs(tree.generateMs)}`);
  else log(`tree ${name} reused from ${tree.dir}`);
  const root = path.dirname(tree.dir);
  initRoot(root);
  return { layout: layoutOf(root), base: path.dirname(root), tree };
}

function findCmd(dir: string): string {
  return `find '${dir}' -printf '%s %T@ %i %p\\n' > /dev/null`;
}

/** One table row comparing Burrow's timings with a reference tool's, by wall and by CPU time. */
function compareRow(measure: string, burrow: Timing[], ref: Timing[], refName: string, goal: number | null): Row {
  const [bw, bc, rw, rc] = [median(burrow.map((t) => t.ms)), median(burrow.map((t) => t.cpuMs)), median(ref.map((t) => t.ms)), median(ref.map((t) => t.cpuMs))];
  return {
    measure,
    burrow: `${fmtMs(bw)} (CPU ${fmtMs(bc)})`,
    reference: `${refName} ${fmtMs(rw)} (CPU ${fmtMs(rc)})`,
    ratio: `${fmtRatio(bw / rw)} wall; ${fmtRatio(bc / rc)} CPU`,
    goal: goal === null ? '—' : `<= ${goal.toFixed(1)}x ${refName}`,
    verdict: goal === null ? '(context)' : verdict(bw / rw, goal, 'max'),
  };
}

async function benchScan(layout: RootLayout, base: string): Promise<void> {
  const find = findCmd(layout.files);
  const scanDb = path.join(base, 'bench-scan.db');
  const cliScan = `node '${cli}' scan --root '${layout.root}' --json > /dev/null`;
  const inProcess = async (fresh: boolean): Promise<Timing> => {
    if (fresh) freshDb(scanDb);
    const store = openStore(scanDb);
    let stats: ScanStats | null = null;
    try {
      const t = await timeInProcess(() => (stats = scanRoot(store, layout)));
      const st = stats! as ScanStats;
      if (!fresh && st.added + st.changed + st.removed !== 0) throw new Error(`reconcile of an unchanged tree found changes: ${JSON.stringify(st)}`);
      if (fresh && st.added === 0) throw new Error('a fresh scan added nothing');
      return t;
    } finally {
      store.close();
    }
  };
  // Warm-up: dentries and inodes cached for everyone, JIT warm for the in-process runs.
  await timeShell([find]);
  await inProcess(true);
  await inProcess(false);
  const r = { find: [] as Timing[], fresh: [] as Timing[], recon: [] as Timing[], cliFresh: [] as Timing[], cliRecon: [] as Timing[] };
  // Interleaved, so load from elsewhere on the machine hits both sides alike.
  for (let i = 0; i < REPS; i++) {
    r.find.push(await timeShell([find]));
    r.fresh.push(await inProcess(true));
    r.recon.push(await inProcess(false));
    freshDb(layout.db);
    r.cliFresh.push(await timeShell([cliScan]));
    r.cliRecon.push(await timeShell([cliScan]));
    log(`scan rep ${i + 1}: find ${fmtMs(r.find[i]!.ms)}, fresh ${fmtMs(r.fresh[i]!.ms)}, reconcile ${fmtMs(r.recon[i]!.ms)}, CLI fresh ${fmtMs(r.cliFresh[i]!.ms)}, CLI reconcile ${fmtMs(r.cliRecon[i]!.ms)}`);
  }
  // Issue 16 sets the scan goal on the CLI, Node's start included.
  rows.push(compareRow('Full metadata scan, fresh DB (scanRoot in-process)', r.fresh, r.find, 'find', null));
  rows.push(compareRow('Full metadata scan, fresh DB (`burrow scan` CLI, incl. node start)', r.cliFresh, r.find, 'find', 1.5));
  rows.push(compareRow('Restart reconcile, nothing changed (scanRoot in-process)', r.recon, r.find, 'find', 1.0));
  rows.push(compareRow('Restart reconcile, nothing changed (`burrow scan` CLI, incl. node start)', r.cliRecon, r.find, 'find', null));
  notes.push(`Scan reference: \`${findCmd('<tree>')}\`. Each repetition runs find, then Burrow, back to back.`);
}

/** Split the file list in two halves of about equal bytes (largest first, greedy). */
function splitByBytes(dir: string, rels: string[]): [string[], string[]] {
  const sized = rels.map((r) => ({ r, s: fs.statSync(path.join(dir, r)).size })).sort((a, b) => b.s - a.s);
  const halves: [string[], string[]] = [[], []];
  const bytes = [0, 0];
  for (const x of sized) {
    const i = bytes[0]! <= bytes[1]! ? 0 : 1;
    halves[i].push(x.r);
    bytes[i] = bytes[i]! + x.s;
  }
  return halves;
}

async function benchHash(layout: RootLayout, base: string, tree: ReturnType<typeof ensureTree>, workers: number): Promise<void> {
  const rels = tree.list();
  const halves = splitByBytes(layout.files, rels);
  const lists = halves.map((h, i) => {
    const f = path.join(base, `bench-hash-list-${i}.nul`);
    fs.writeFileSync(f, h.join('\0') + '\0');
    return f;
  });
  const tool = (bin: string) => lists.map((l) => `xargs -0 -a '${l}' ${bin} > /dev/null`);
  const warm = () => timeShell(tool('cat'), layout.files);
  log('warming the page cache (reading every file once)');
  await warm();

  const template = path.join(base, 'bench-hash-template.db');
  freshDb(template);
  {
    const s = openStore(template);
    scanRoot(s, layout);
    s.close();
  }
  const hashDb = path.join(base, 'bench-hash.db');
  let hashed = { files: 0, bytes: 0, failed: 0 };
  const burrowRun = async (): Promise<Timing> => {
    for (const f of [hashDb, `${hashDb}-wal`, `${hashDb}-shm`]) fs.rmSync(f, { force: true });
    fs.copyFileSync(template, hashDb);
    const store = openStore(hashDb);
    try {
      return await timeInProcess(async () => (hashed = await hashPending(store, layout.files, { workers, queue: 1024 })));
    } finally {
      store.close();
    }
  };
  await burrowRun();
  const r = { burrow: [] as Timing[], sha: [] as Timing[], b3: [] as Timing[] };
  for (let i = 0; i < REPS; i++) {
    // The VM reclaims page cache under memory pressure from elsewhere: re-warm before each round.
    await warm();
    r.burrow.push(await burrowRun());
    if (hashed.files !== tree.files || hashed.failed !== 0) throw new Error(`hashPending hashed ${hashed.files}/${tree.files} files, ${hashed.failed} failed`);
    r.sha.push(await timeShell(tool('sha256sum'), layout.files));
    r.b3.push(await timeShell(tool('b3sum'), layout.files));
    log(`hash rep ${i + 1}: burrow ${fmtMs(r.burrow[i]!.ms)} (CPU ${fmtMs(r.burrow[i]!.cpuMs)}), sha256sum ${fmtMs(r.sha[i]!.ms)} (CPU ${fmtMs(r.sha[i]!.cpuMs)}), b3sum ${fmtMs(r.b3[i]!.ms)} (CPU ${fmtMs(r.b3[i]!.cpuMs)})`);
  }

  const bytes = tree.bytes;
  const med = (ts: Timing[]) => ({ ms: median(ts.map((t) => t.ms)), cpu: median(ts.map((t) => t.cpuMs)) });
  const [b, s, k] = [med(r.burrow), med(r.sha), med(r.b3)];
  const fastest = s.ms <= k.ms ? { name: 'sha256sum', ...s } : { name: 'b3sum', ...k };
  const ratio = fastest.ms / b.ms; // MB/s ratio = inverse time ratio
  rows.push({
    measure: `Hashing ${tree.files} files, ${fmtMB(bytes)}, page cache warm (hashPending, SHA-256, ${workers} workers)`,
    burrow: `${fmtMBs(bytes, b.ms)} (${fmtMs(b.ms)}, CPU ${fmtMs(b.cpu)})`,
    reference: `2x sha256sum ${fmtMBs(bytes, s.ms)} (${fmtMs(s.ms)}, CPU ${fmtMs(s.cpu)}); 2x b3sum ${fmtMBs(bytes, k.ms)} (${fmtMs(k.ms)}, CPU ${fmtMs(k.cpu)})`,
    ratio: `${fmtRatio(ratio)} of ${fastest.name} MB/s (CPU ${fmtRatio(fastest.cpu / b.cpu)}); ${fmtRatio(s.ms / b.ms)} of sha256sum (CPU ${fmtRatio(s.cpu / b.cpu)})`,
    goal: '>= 0.9x the faster tool',
    verdict: verdict(ratio, 0.9, 'min'),
  });
  notes.push('Hashing: every file is read once before each round (page cache warm for all three); sha256sum and b3sum each run as 2 processes (`xargs -0 -a <half> <tool>`) over two halves of equal bytes; b3sum uses its default threading. Burrow\'s time includes reading the work list from SQLite and storing 200k partial + full hashes.');
}

function benchCrypto(): void {
  const buf = crypto.randomBytes(256 * MiB);
  const algos: Array<[string, (b: Buffer) => unknown]> = [
    ['sha256', (b) => crypto.createHash('sha256').update(b).digest()],
    ['sha1', (b) => crypto.createHash('sha1').update(b).digest()],
    ['blake2b512', (b) => crypto.createHash('blake2b512').update(b).digest()],
    ['sha512', (b) => crypto.createHash('sha512').update(b).digest()],
  ];
  const results: string[] = [];
  for (const [name, fn] of algos) {
    fn(buf.subarray(0, MiB));
    const ms: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const t0 = performance.now();
      fn(buf);
      ms.push(performance.now() - t0);
    }
    results.push(`${name} ${fmtMBs(buf.length, median(ms))}`);
  }
  {
    const small = buf.subarray(0, 32 * MiB);
    const t0 = performance.now();
    blake3(small);
    results.push(`@noble/hashes blake3 (pure JS) ${fmtMBs(small.length, performance.now() - t0)}`);
  }
  const shaNi = /\bsha_ni\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  rows.push({
    measure: `Raw hash speed, one thread, 256 MiB in memory (CPU ${shaNi ? 'has' : 'lacks'} SHA extensions)`,
    burrow: results.join('; '),
    reference: '—',
    ratio: '—',
    goal: '(chooses the hash)',
    verdict: '(context)',
  });
}

/** The watch probe's one file per run, if a run ended before it could remove it: the tree must stay as generated. */
function removeProbeFiles(dir: string): void {
  for (const name of fs.readdirSync(dir)) if (/^probe-\d+-\d+\.txt$/.test(name)) fs.rmSync(path.join(dir, name), { force: true });
}

async function benchWatchers(dir: string, files: number): Promise<void> {
  const probe = path.join(here, 'lib', 'watch-probe.js');
  for (const lib of ['burrow', 'parcel', 'chokidar'] as const) {
    const readyMs: number[] = [];
    const latencyMs: number[] = [];
    let rss = 0;
    let ino = { instances: 0, watches: 0 };
    let errs = '';
    const reps = Math.min(REPS, lib === 'chokidar' ? 2 : 3); // chokidar: slow and 1.6 GB per run
    for (let i = 0; i < reps; i++) {
      const child = spawn(process.execPath, [probe, lib, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
      try {
        const m = await waitForLine(child, /^ready (\d+) (\d+) (.*)$/, 600_000, `${lib} ready`);
        readyMs.push(Number(m[1]));
        if (Number(m[2]) > 0) errs = `${m[2]} errors, first: ${JSON.parse(m[3]!)}`;
        rss = Math.max(rss, procStatusBytes(child.pid!, 'VmHWM'));
        ino = inotifyUsage(child.pid!);
        await new Promise((r) => setTimeout(r, 300));
        const lat = waitForLine(child, /^latency ([\d.]+)$/, 15_000, `${lib} event`);
        child.stdin!.write('go\n');
        latencyMs.push(Number((await lat)[1]));
      } catch (err) {
        errs ||= (err as Error).message;
      } finally {
        await stopChild(child);
        removeProbeFiles(dir);
      }
    }
    log(`${lib}: ready ${readyMs.join(', ')} ms, latency ${latencyMs.join(', ')} ms, ${fmtMB(rss)} peak RSS, ${ino.watches} watches ${errs}`);
    const name = lib === 'burrow' ? 'Burrow FolderWatcher (fs.watch per folder)' : lib === 'parcel' ? '@parcel/watcher 2.6' : 'chokidar 5';
    rows.push({
      measure: `Watcher: ${name} on ${files} files`,
      burrow: `ready ${readyMs.length ? fmtMs(median(readyMs)) : 'n/a'}; event latency ${latencyMs.length ? `${median(latencyMs).toFixed(0)} ms` : 'none (no event)'}`,
      reference: `peak RSS ${fmtMB(rss)}; ${ino.watches} inotify watches in ${ino.instances} instance(s)${errs ? `; ${errs}` : ''}`,
      ratio: '—',
      goal: '(chooses the watcher)',
      verdict: '(context)',
    });
  }
  const limit = fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim();
  notes.push(`Watchers: fs.inotify.max_user_watches on this machine is ${limit}. Latency = time from writeFileSync of one new file to its event inside the watching process (Burrow's FolderWatcher with debounce 0 here; the NAS debounces by index.debounceMs). Peak RSS includes Node itself (~45 MB).`);
}

/** Start the NAS on `layout` with a fresh DB, wait until reconcile and hashing are done, read its peak RSS. */
async function benchRss(layout: RootLayout, files: number, label: string): Promise<void> {
  freshDb(layout.db);
  const t0 = performance.now();
  const child = spawn(process.execPath, [...NODE_FLAGS, cli, 'start', '--root', layout.root, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BURROW_LOG_LEVEL: 'warn' } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    const m = await waitForLine(child, /API:\s+(http:\/\/\S+?)\/?\s*$/, 900_000, 'NAS start');
    const readyMs = performance.now() - t0;
    const url = m[1]!;
    let status: { files: number; hash: { hashedFiles: number; totalFiles: number } } | null = null;
    for (;;) {
      const res = await fetch(`${url}/api/status`, { headers: { authorization: `Bearer ${fs.readFileSync(layout.apiToken, 'utf8').trim()}` } });
      status = (await res.json()) as typeof status;
      if (status!.hash.hashedFiles >= status!.hash.totalFiles) break;
      if (performance.now() - t0 > 1_800_000) throw new Error(`hashing not done after 30 min: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const doneMs = performance.now() - t0;
    const hwm = procStatusBytes(child.pid!, 'VmHWM');
    const rssNow = procStatusBytes(child.pid!, 'VmRSS');
    if (status!.files !== files) notes.push(`RSS run on ${label}: the NAS indexed ${status!.files} files, expected ${files}.`);
    log(`${label}: serving after ${fmtMs(readyMs)}, hashed after ${fmtMs(doneMs)}, VmHWM ${fmtMB(hwm)}, VmRSS ${fmtMB(rssNow)}`);
    rows.push({
      measure: `Peak RSS of \`burrow start\` indexing ${label} (fresh DB: scan + watch + hash all)`,
      burrow: `VmHWM ${fmtMB(hwm)} (now ${fmtMB(rssNow)})`,
      reference: `serving after ${fmtMs(readyMs)}; all hashed after ${fmtMs(doneMs)}`,
      ratio: '—',
      goal: files <= 200_000 ? '<= 200 MB' : '(reported)',
      verdict: files <= 200_000 ? verdict(hwm / 1e6, 200, 'max') : hwm / 1e6 <= 200 ? 'under 200 MB too' : 'over 200 MB',
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}\nNAS stderr:\n${stderr}`);
  } finally {
    await stopChild(child);
  }
}

/** The index alone (reconcile + watch + hash, no HTTP, no other services) in a child: its share of the NAS's RSS. */
async function benchIndexRss(layout: RootLayout, files: number, label: string): Promise<void> {
  freshDb(layout.db);
  const child = spawn(process.execPath, [...NODE_FLAGS, path.join(here, 'lib', 'index-probe.js'), layout.root, '2', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const m = await waitForLine(child, /^done (\d+) (\d+) (\d+)$/, 1_800_000, 'index probe');
    const [hwm, seen, ms] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (seen !== files) throw new Error(`index probe saw ${seen} files, expected ${files}`);
    log(`index alone, ${label}: VmHWM ${fmtMB(hwm)}, scanned + hashed in ${fmtMs(ms)}`);
    rows.push({
      measure: `Peak RSS of the index alone on ${label} (fresh DB: scan + watch + hash all; no HTTP, no other services)`,
      burrow: `VmHWM ${fmtMB(hwm)}`,
      reference: `scanned and hashed in ${fmtMs(ms)}`,
      ratio: '—',
      goal: files <= 200_000 ? '<= 200 MB (for the whole NAS)' : '(reported)',
      verdict: hwm / 1e6 <= 200 ? 'under 200 MB' : 'over 200 MB',
    });
  } finally {
    await stopChild(child);
  }
}

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = os.loadavg()[0]!;
  const { layout, base, tree } = prepareRoot(SPEC_200K, 'index-200k');
  log(`tree: ${tree.files} files, ${tree.dirs} folders, ${fmtMB(tree.bytes)} at ${tree.dir}`);
  removeProbeFiles(layout.files);
  // A section that fails is reported as a row; the others still run and print.
  const section = async (name: string, fn: () => unknown | Promise<unknown>) => {
    if (!ONLY.has(name)) return;
    try {
      await fn();
    } catch (err) {
      log(`${name} FAILED: ${(err as Error).stack}`);
      rows.push({ measure: `${name} section`, burrow: 'FAILED', reference: (err as Error).message.split('\n')[0]!, ratio: '—', goal: '—', verdict: 'FAILED' });
    }
  };
  await section('scan', () => benchScan(layout, base));
  await section('hash', () => benchHash(layout, base, tree, 2));
  await section('crypto', () => benchCrypto());
  await section('watch', () => benchWatchers(layout.files, tree.files));
  await section('rss', async () => {
    const label200 = `${tree.files.toLocaleString('en')} files (${fmtMB(tree.bytes)})`;
    await benchRss(layout, tree.files, label200);
    await benchIndexRss(layout, tree.files, label200);
    if (process.env.BENCH_SKIP_1M !== '1') {
      const big = prepareRoot(SPEC_1M, 'index-1m');
      const label1m = `${big.tree.files.toLocaleString('en')} empty files`;
      await benchRss(big.layout, big.tree.files, label1m);
      await benchIndexRss(big.layout, big.tree.files, label1m);
    }
  });
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const kernel = execFileSync('uname', ['-r']).toString().trim();
  const fsType = execFileSync('stat', ['-f', '-c', '%T', layout.files]).toString().trim();
  const out = [
    `## bench:index — ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Command: \`npm run bench:index\` (BENCH_SEED=${SEED}, BENCH_REPS=${REPS}); medians of ${REPS} runs after a warm-up; CPU = user + system time of all threads/processes; Burrow runs with Node flags "${NODE_FLAGS.join(' ')}".`,
    `Machine: ${os.cpus().length} x ${cpu}, ${fmtMB(os.totalmem())} RAM, Linux ${kernel}, ${fsType} at ${CACHE}, Node ${process.version}. Load average (1 min) ${loadBefore.toFixed(1)} at start, ${os.loadavg()[0]!.toFixed(1)} at end: other work shared the machine, so CPU ratios are the steadier figure.`,
    `Tree: ${tree.files} files in ${tree.dirs} folders, ${fmtMB(tree.bytes)} (${SPEC_200K.classes.map((c) => `${c.count} x ${c.minBytes}-${c.maxBytes} B`).join(', ')}), dentries and pages warm for every tool.`,
    '',
    markdownTable(['Measure', 'Burrow', 'Reference', 'Ratio', 'Goal', 'Verdict'], rows.map((r) => [r.measure, r.burrow, r.reference, r.ratio, r.goal, r.verdict])),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ];
  process.stdout.write(out.join('\n'));
}

await main();
