/**
 * Sync benchmark: Burrow's engine against Syncthing on the same data, in the
 * same run. Two peers each, on 127.0.0.1. Measures time to a full copy, the
 * latency of one small change, CPU seconds per GiB and peak RSS.
 *
 *   npm run bench:sync                  (defaults: 20,000 files, ~1.5 GiB, 3 runs)
 *   BENCH_FILES=2000 BENCH_RUNS=1 BENCH_DIR=/tmp/x npm run bench:sync
 *   BENCH_FILES=100000 BENCH_FILE_SIZE=100 BENCH_RUNS=1 npm run bench:sync   (100,000 × 100 B in 1,000 folders)
 *
 * After the full sync and one small change, each run also measures the idle
 * CPU of both peers over BENCH_IDLE_S seconds (default 60; 0 skips), then
 * restarts the receiver and measures the time until it is in sync again and
 * the bytes its connection carried meanwhile (index traffic: nothing changed).
 * Burrow peers run with the engine's defaults (watcher on, hourly reconcile);
 * BENCH_RESCAN_MS sets another rescan interval (60000 was the old default).
 *
 * Syncthing (Debian's `syncthing`) gets generated configs: listen and GUI on
 * 127.0.0.1 only; global discovery, local discovery, relays, NAT traversal,
 * usage reporting, crash reporting and upgrades off; its REST API tells when
 * the copy is complete. Its file-watcher delay stays at the default (10 s).
 * Each tool runs as two separate processes, so CPU and RSS are per process
 * (read from /proc). Burrow's run with the Node flags the `burrow` command
 * uses (--optimize-for-size; BENCH_NODE_FLAGS="" runs them without).
 * Debugging: BENCH_DEBUG=1 prints each peer's progress and memory every 2 s;
 * BENCH_HEAPSNAP=1 writes a heap snapshot of each peer to /tmp once in sync,
 * BENCH_HEAPSNAP_AFTER_S=n one n seconds after it started.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { SyncEngine, newFolderSecrets } from '../server/src/sync/index.js';

const FILES = Number(process.env.BENCH_FILES ?? 20_000);
const TARGET_BYTES = Number(process.env.BENCH_BYTES ?? 1.5 * 1024 ** 3);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BASE = process.env.BENCH_DIR ?? '/tmp/burrow-sync-bench';
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 20 * 60_000);
const TOOLS = (process.env.BENCH_TOOLS ?? 'burrow,syncthing').split(',');
const FILE_SIZE = process.env.BENCH_FILE_SIZE ? Number(process.env.BENCH_FILE_SIZE) : 0;
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 60);
/** Node flags of each Burrow peer: by default those the `burrow` command runs with (bin/burrow.js). */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--optimize-for-size').split(' ').filter(Boolean);

/* ---------------- child mode: one Burrow peer ---------------- */

async function childPeer(args: string[]): Promise<void> {
  const [secret, dir, state, port, peer, mode] = args as [string, string, string, string, string, string];
  const e = new SyncEngine({
    stateDir: state,
    listen: { host: '127.0.0.1', port: Number(port) },
    knownHosts: [peer],
    dialIntervalMs: 250,
    ...(process.env.BENCH_RESCAN_MS ? { rescanIntervalMs: Number(process.env.BENCH_RESCAN_MS) } : {}),
  });
  await e.open();
  e.on('folderSynced', () => {
    const n = e.listFiles('f').filter((f) => !f.deleted).length;
    const bytes = e.listPeers('f').reduce((a, p) => a + p.bytesIn + p.bytesOut, 0);
    process.stdout.write(`SYNCED ${n} ${bytes}\n`);
    if (process.env.BENCH_DEBUG) process.stderr.write(`${path.basename(dir)} SYNCED ${n}\n`);
    // A heap snapshot of each peer once in sync, to see what it holds (BENCH_HEAPSNAP=1).
    if (process.env.BENCH_HEAPSNAP) process.stderr.write(`heap snapshot: ${v8.writeHeapSnapshot(path.join('/tmp', `${path.basename(dir)}-${Date.now()}.heapsnapshot`))}\n`);
  });
  await e.addFolder({ id: 'f', path: dir, secret, mode: mode as 'send-receive' });
  process.stdout.write('READY\n');
  if (process.env.BENCH_DEBUG) {
    let snapped = false;
    setInterval(() => {
      const pr = e.progress('f');
      // BENCH_HEAPSNAP_AFTER_S=n: one heap snapshot of each peer n seconds after it started, if not in sync yet.
      if (process.env.BENCH_HEAPSNAP_AFTER_S && !snapped && !pr.inSync && process.uptime() >= Number(process.env.BENCH_HEAPSNAP_AFTER_S)) {
        snapped = true;
        process.stderr.write(`heap snapshot: ${v8.writeHeapSnapshot(path.join('/tmp', `${path.basename(dir)}-${Date.now()}.heapsnapshot`))}\n`);
      }
      const m = process.memoryUsage();
      const mb = (n: number): string => (n / 1048576).toFixed(0);
      process.stderr.write(`${path.basename(dir)} ${JSON.stringify(pr)} peers=${e.listPeers('f').length} rss=${mb(m.rss)} heap=${mb(m.heapUsed)}/${mb(m.heapTotal)} ext=${mb(m.external)} ab=${mb(m.arrayBuffers)} MiB\n`);
    }, 2000).unref();
  }
  process.on('SIGTERM', () => {
    void e.close().then(() => process.exit(0));
  });
}

/* ---------------- helpers ---------------- */

function log(...a: unknown[]): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
}

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function treePids(pid: number): number[] {
  const out = [pid];
  try {
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === pid) out.push(...treePids(Number(d)));
      } catch {
        /* gone */
      }
    }
  } catch {
    /* no /proc */
  }
  return out;
}

const TICK = 100;
function cpuSeconds(pid: number): number {
  let t = 0;
  for (const p of treePids(pid)) {
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      t += (Number(f[11]) + Number(f[12])) / TICK;
    } catch {
      /* gone */
    }
  }
  return t;
}
function peakRssMiB(pid: number): number {
  let m = 0;
  for (const p of treePids(pid)) {
    try {
      const s = fs.readFileSync(`/proc/${p}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+) kB/.exec(s);
      if (hwm) m += Number(hwm[1]) / 1024;
    } catch {
      /* gone */
    }
  }
  return m;
}

/* ---------------- data ---------------- */

interface DataSet {
  dir: string;
  files: number;
  bytes: number;
  sample: string; // a small file to edit
}

async function makeData(): Promise<DataSet> {
  const dir = path.join(BASE, 'data');
  const marker = path.join(BASE, `data-${FILES}-${FILE_SIZE ? 'each' + FILE_SIZE : TARGET_BYTES}.json`);
  if (fs.existsSync(marker)) return JSON.parse(fs.readFileSync(marker, 'utf8')) as DataSet;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const m of fs.readdirSync(BASE)) if (/^data-.*\.json$/.test(m)) fs.rmSync(path.join(BASE, m));
  if (FILE_SIZE) {
    // Many tiny files: 100 per folder, each with distinct content.
    for (let i = 0; i < FILES; i++) {
      const sub = path.join(dir, `d${String(Math.floor(i / 100)).padStart(4, '0')}`);
      if (i % 100 === 0) fs.mkdirSync(sub, { recursive: true });
      fs.writeFileSync(path.join(sub, `f${i}.txt`), `${i} `.padEnd(FILE_SIZE, 'x').slice(0, FILE_SIZE));
    }
    const ds: DataSet = { dir, files: FILES, bytes: FILES * FILE_SIZE, sample: path.join('d0000', 'f0.txt') };
    fs.writeFileSync(marker, JSON.stringify(ds));
    return ds;
  }
  // Mixed sizes: 90% small (1-16 KiB), 9.5% medium (64 KiB-1 MiB), 0.5% large (rest of the budget).
  const nSmall = Math.round(FILES * 0.9);
  const nMed = Math.round(FILES * 0.095);
  const nLarge = Math.max(1, FILES - nSmall - nMed);
  const sizes: number[] = [];
  let rnd = 12345;
  const r = (): number => {
    rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
    return rnd / 0x7fffffff;
  };
  for (let i = 0; i < nSmall; i++) sizes.push(1024 + Math.floor(r() * 15 * 1024));
  for (let i = 0; i < nMed; i++) sizes.push(64 * 1024 + Math.floor(r() * 960 * 1024));
  const used = sizes.reduce((a, b) => a + b, 0);
  const left = Math.max(nLarge * 1024 * 1024, TARGET_BYTES - used);
  for (let i = 0; i < nLarge; i++) sizes.push(Math.floor(left / nLarge));
  const buf = Buffer.allocUnsafe(Math.max(...sizes));
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    const sub = path.join(dir, `d${String(i % 200).padStart(3, '0')}`, `s${i % 7}`);
    if (i < 1400) fs.mkdirSync(sub, { recursive: true });
    const n = sizes[i]!;
    crypto.randomFillSync(buf, 0, n);
    fs.writeFileSync(path.join(sub, `file-${i}.bin`), buf.subarray(0, n));
    bytes += n;
  }
  const ds: DataSet = { dir, files: sizes.length, bytes, sample: path.join(`d000`, `s0`, `file-0.bin`) };
  fs.writeFileSync(marker, JSON.stringify(ds));
  return ds;
}

function copyTree(src: string, dst: string): void {
  fs.rmSync(dst, { recursive: true, force: true });
  execFileSync('cp', ['-a', src, dst]);
}

/* ---------------- one run per tool ---------------- */

interface Result {
  fullSyncS: number;
  changeS: number;
  cpuPerGiB: number;
  peakRssA: number;
  peakRssB: number;
  /** Percent of one core, over IDLE_S seconds after the sync. */
  idleCpuA?: number;
  idleCpuB?: number;
  /** Receiver restarted: seconds until in sync again, bytes on its connection meanwhile, its peak RSS. */
  restartS?: number;
  restartBytes?: number;
  restartRssB?: number;
}

/** Idle CPU of both peers over IDLE_S seconds, in percent of one core. */
async function measureIdle(a: ChildProcess, b: ChildProcess, r: Result): Promise<void> {
  if (!IDLE_S) return;
  await sleep(3000);
  const [ca, cb, t] = [cpuSeconds(a.pid!), cpuSeconds(b.pid!), performance.now()];
  await sleep(IDLE_S * 1000);
  const dt = (performance.now() - t) / 1000;
  r.idleCpuA = ((cpuSeconds(a.pid!) - ca) / dt) * 100;
  r.idleCpuB = ((cpuSeconds(b.pid!) - cb) / dt) * 100;
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((res) => p.once('exit', () => res()));
}

async function waitFile(file: string, want: Buffer, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    try {
      if (fs.readFileSync(file).equals(want)) return (performance.now() - t0) / 1000;
    } catch {
      /* not yet */
    }
    if (performance.now() - t0 > timeoutMs) throw new Error('change did not arrive in time: ' + file);
    await sleep(5);
  }
}

/**
 * The part both tools share once a full sync is seen: full-sync time, CPU and peak RSS of both
 * peers, then the latency of one small change from A to B.
 */
async function measureAfterFullSync(a: ChildProcess, b: ChildProcess, A: string, B: string, ds: DataSet, t0: number, changeTimeoutMs: number): Promise<Result> {
  const fullSyncS = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(a.pid!) + cpuSeconds(b.pid!);
  const rssA = peakRssMiB(a.pid!);
  const rssB = peakRssMiB(b.pid!);
  await sleep(1500);
  const change = crypto.randomBytes(2048);
  fs.writeFileSync(path.join(A, ds.sample), change);
  const changeS = await waitFile(path.join(B, ds.sample), change, changeTimeoutMs);
  return { fullSyncS, changeS, cpuPerGiB: cpu / (ds.bytes / 1024 ** 3), peakRssA: rssA, peakRssB: rssB };
}

/** Stop both peers (TERM, then KILL after `graceMs`) and remove the run's folder. */
async function stopPair(a: ChildProcess, b: ChildProcess, graceMs: number, root: string): Promise<void> {
  a.kill('SIGTERM');
  b.kill('SIGTERM');
  await sleep(graceMs);
  a.kill('SIGKILL');
  b.kill('SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
}

async function runBurrow(ds: DataSet, run: number): Promise<Result> {
  const root = path.join(BASE, `burrow-${run}`);
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const A = path.join(root, 'a');
  const B = path.join(root, 'b');
  copyTree(ds.dir, A);
  fs.mkdirSync(B);
  execFileSync('sync');
  const s = newFolderSecrets();
  const [pa, pb] = [await freePort(), await freePort()];
  const self = fileURLToPath(import.meta.url);
  const spawnPeer = (dir: string, name: string, port: number, peer: number): ChildProcess =>
    spawn(process.execPath, [...NODE_FLAGS, self, '--child', s.readWrite, dir, path.join(root, name + '-state'), String(port), `127.0.0.1:${peer}`, 'send-receive'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  const synced = (p: ChildProcess, what: string): Promise<number> =>
    new Promise<number>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`burrow ${what} timed out`)), TIMEOUT_MS);
      let buf = '';
      p.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        for (const m of buf.matchAll(/SYNCED (\d+) (\d+)/g)) {
          if (Number(m[1]) >= ds.files) {
            clearTimeout(timer);
            res(Number(m[2]));
          }
        }
      });
      p.on('exit', () => rej(new Error('burrow peer exited')));
    });
  const t0 = performance.now();
  const a = spawnPeer(A, 'a', pa, pb);
  let b = spawnPeer(B, 'b', pb, pa);
  try {
    await synced(b, 'full sync');
    const r = await measureAfterFullSync(a, b, A, B, ds, t0, 60_000);
    await measureIdle(a, b, r);
    // Restart the receiver (a clean stop: SIGTERM saves its state) and time its return to sync.
    b.kill('SIGTERM');
    await exited(b);
    const t1 = performance.now();
    b = spawnPeer(B, 'b', pb, pa);
    r.restartBytes = await synced(b, 'restart');
    r.restartS = (performance.now() - t1) / 1000;
    r.restartRssB = peakRssMiB(b.pid!);
    return r;
  } finally {
    await stopPair(a, b, 500, root);
  }
}

function stConfig(home: string, listen: number, gui: number, selfId: string, otherId: string, otherPort: number, folder: string): void {
  const f = path.join(home, 'config.xml');
  let x = fs.readFileSync(f, 'utf8');
  const set = (tag: string, val: string): void => {
    const re = new RegExp(`<${tag}>[^<]*</${tag}>`, 'g');
    if (re.test(x)) x = x.replace(re, `<${tag}>${val}</${tag}>`);
    else x = x.replace('</options>', `    <${tag}>${val}</${tag}>\n    </options>`);
  };
  set('listenAddress', `tcp://127.0.0.1:${listen}`);
  set('globalAnnounceEnabled', 'false');
  set('localAnnounceEnabled', 'false');
  set('relaysEnabled', 'false');
  set('natEnabled', 'false');
  set('urAccepted', '-1');
  set('startBrowser', 'false');
  set('autoUpgradeIntervalH', '0');
  set('crashReportingEnabled', 'false');
  x = x.replace(/<gui([^>]*)>[\s\S]*?<\/gui>/, `<gui enabled="true" tls="false" debugging="false"><address>127.0.0.1:${gui}</address><apikey>bench</apikey><theme>default</theme></gui>`);
  const folderXml = `
    <folder id="bench" label="bench" path="${folder}" type="sendreceive" rescanIntervalS="3600" fsWatcherEnabled="true" fsWatcherDelayS="10" ignorePerms="false" autoNormalize="true">
        <filesystemType>basic</filesystemType>
        <device id="${selfId}" introducedBy=""></device>
        <device id="${otherId}" introducedBy=""></device>
        <minDiskFree unit="%">0</minDiskFree>
    </folder>
    <device id="${otherId}" name="peer" compression="metadata" introducer="false" skipIntroductionRemovals="false" introducedBy="">
        <address>tcp://127.0.0.1:${otherPort}</address>
        <paused>false</paused>
        <autoAcceptFolders>false</autoAcceptFolders>
    </device>`;
  x = x.replace(/(<configuration[^>]*>)/, `$1${folderXml}`);
  fs.writeFileSync(f, x);
}

async function stStatus(gui: number): Promise<{ globalFiles: number; inSyncFiles: number; needFiles: number; needBytes: number; state: string } | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${gui}/rest/db/status?folder=bench`, { headers: { 'X-API-Key': 'bench' } });
    if (!r.ok) return null;
    return (await r.json()) as { globalFiles: number; inSyncFiles: number; needFiles: number; needBytes: number; state: string };
  } catch {
    return null;
  }
}

async function stBytes(gui: number): Promise<number | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${gui}/rest/system/connections`, { headers: { 'X-API-Key': 'bench' } });
    if (!r.ok) return null;
    const j = (await r.json()) as { connections: Record<string, { connected: boolean; inBytesTotal: number; outBytesTotal: number }> };
    const c = Object.values(j.connections).find((x) => x.connected);
    return c ? c.inBytesTotal + c.outBytesTotal : null;
  } catch {
    return null;
  }
}

async function runSyncthing(ds: DataSet, run: number): Promise<Result> {
  const root = path.join(BASE, `syncthing-${run}`);
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const A = path.join(root, 'a');
  const B = path.join(root, 'b');
  copyTree(ds.dir, A);
  fs.mkdirSync(B);
  const env = { ...process.env, HOME: root, STNODEFAULTFOLDER: '1', STNOUPGRADE: '1', STNORESTART: '1' };
  const homes = [path.join(root, 'st-a'), path.join(root, 'st-b')];
  const ids: string[] = [];
  for (const h of homes) {
    execFileSync('syncthing', ['generate', `--home=${h}`, '--no-default-folder', '--skip-port-probing'], { env, stdio: 'ignore' });
    ids.push(execFileSync('syncthing', ['serve', `--home=${h}`, '--device-id'], { env }).toString().trim());
  }
  const ports = [await freePort(), await freePort()];
  const guis = [await freePort(), await freePort()];
  stConfig(homes[0]!, ports[0]!, guis[0]!, ids[0]!, ids[1]!, ports[1]!, A);
  stConfig(homes[1]!, ports[1]!, guis[1]!, ids[1]!, ids[0]!, ports[0]!, B);
  execFileSync('sync');
  const start = (h: string): ChildProcess =>
    spawn('syncthing', ['serve', `--home=${h}`, '--no-browser', '--no-restart', '--no-upgrade', `--logfile=${h}/log.txt`], { env, stdio: 'ignore' });
  const t0 = performance.now();
  const a = start(homes[0]!);
  let b = start(homes[1]!);
  const inSync = async (since: number, connected: boolean): Promise<number> => {
    for (;;) {
      const st = await stStatus(guis[1]!);
      const bytes = connected ? await stBytes(guis[1]!) : 0;
      if (bytes !== null && st && st.globalFiles >= ds.files && st.inSyncFiles >= ds.files && st.needFiles === 0 && st.needBytes === 0 && st.state === 'idle') return bytes;
      if (performance.now() - since > TIMEOUT_MS) throw new Error('syncthing sync timed out');
      await sleep(100);
    }
  };
  try {
    await inSync(t0, false);
    const r = await measureAfterFullSync(a, b, A, B, ds, t0, 120_000);
    await measureIdle(a, b, r);
    b.kill('SIGTERM');
    await exited(b);
    const t1 = performance.now();
    b = start(homes[1]!);
    // In sync again means connected to the other peer, with its index seen.
    r.restartBytes = await inSync(t1, true);
    r.restartS = (performance.now() - t1) / 1000;
    r.restartRssB = peakRssMiB(b.pid!);
    return r;
  } finally {
    await stopPair(a, b, 1000, root);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  fs.mkdirSync(BASE, { recursive: true });
  log(`generating ${FILES} files / ${(TARGET_BYTES / 1024 ** 3).toFixed(2)} GiB under ${BASE}`);
  const ds = await makeData();
  log(`data: ${ds.files} files, ${(ds.bytes / 1024 ** 3).toFixed(2)} GiB`);
  const res: Record<string, Result[]> = { burrow: [], syncthing: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const tool of TOOLS) {
      log(`run ${i + 1}/${RUNS}: ${tool}`);
      const r = tool === 'burrow' ? await runBurrow(ds, i) : await runSyncthing(ds, i);
      log(`  ${tool}: full ${r.fullSyncS.toFixed(1)} s, change ${r.changeS.toFixed(2)} s, ${r.cpuPerGiB.toFixed(1)} CPU s/GiB, RSS ${r.peakRssA.toFixed(0)}/${r.peakRssB.toFixed(0)} MiB, idle CPU ${r.idleCpuA?.toFixed(2)}%/${r.idleCpuB?.toFixed(2)}%, restart ${r.restartS?.toFixed(1)} s ${r.restartBytes} B`);
      res[tool]!.push(r);
    }
  }
  const row = (name: string, f: (r: Result) => number, digits = 1): string => {
    const b = res.burrow!.length ? median(res.burrow!.map(f)) : NaN;
    const s = res.syncthing!.length ? median(res.syncthing!.map(f)) : NaN;
    return `| ${name} | ${b.toFixed(digits)} | ${s.toFixed(digits)} | ${(b / s).toFixed(2)}x |`;
  };
  const out = [
    `## Sync benchmark (${new Date().toISOString().slice(0, 10)}), ${ds.files} files, ${FILE_SIZE ? `${FILE_SIZE} B each` : `${(ds.bytes / 1024 ** 3).toFixed(2)} GiB`}, ${RUNS} run(s), medians`,
    '',
    `Burrow engine (2 processes, node ${NODE_FLAGS.join(' ') || 'without flags'}) vs ${execFileSync('syncthing', ['--version']).toString().trim().split(' ').slice(0, 2).join(' ')} (2 processes), 127.0.0.1, ${process.version}`,
    '',
    '| metric | Burrow | Syncthing | Burrow/Syncthing |',
    '|---|---|---|---|',
    row('time to full sync (s)', (r) => r.fullSyncS),
    row('single small change (s)', (r) => r.changeS, 2),
    row('CPU seconds per GiB (both peers)', (r) => r.cpuPerGiB),
    row('peak RSS sender (MiB)', (r) => r.peakRssA, 0),
    row('peak RSS receiver (MiB)', (r) => r.peakRssB, 0),
    row(`idle CPU sender (% of a core, ${IDLE_S} s)`, (r) => r.idleCpuA ?? NaN, 2),
    row(`idle CPU receiver (% of a core, ${IDLE_S} s)`, (r) => r.idleCpuB ?? NaN, 2),
    row('receiver restart: time until in sync (s)', (r) => r.restartS ?? NaN),
    row('receiver restart: bytes on its connection', (r) => r.restartBytes ?? NaN, 0),
    row('receiver restart: peak RSS (MiB)', (r) => r.restartRssB ?? NaN, 0),
    '',
    'All runs: ' + JSON.stringify(res),
  ];
  process.stdout.write(out.join('\n') + '\n');
}

if (process.argv[2] === '--child') {
  void childPeer(process.argv.slice(3));
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
