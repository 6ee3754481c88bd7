/**
 * Several NAS (issue 15): how long a new member takes to hold a copy of the store, against
 * `rsync -a` of the same tree between the same two network namespaces in the same run, and how
 * long a device waits from a zone cut to its next successful [get].
 *
 *   npm run bench:multinas                 (20,000 files, 1.5 GiB, BENCH_RUNS=2 copies each)
 *   BENCH_FILES=2000 BENCH_BYTES=150000000 BENCH_RUNS=1 npm run bench:multinas
 *
 * Topology: a router namespace forwards between member A (10.<s>.1.2, zone 10.<s>.1), member B
 * (10.<s>.2.2, zone 10.<s>.2) and this namespace (the device agent). rsync runs as a daemon in
 * B's namespace and is pushed to from A's. Needs root (ip netns) and rsync.
 *
 * The cut part cuts the member that runs requests: the lowest member id among the live members
 * (NasClusterService.gate). Member ids are random, so that is A in some runs and B in others;
 * cutting the other member measures nothing (the runner goes on as before). Each cut prints
 * which member it cut and which member ran the [get] just before it and the one after it.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib/stats.js';

const FILES = Number(process.env.BENCH_FILES ?? 20_000);
const BYTES = Number(process.env.BENCH_BYTES ?? 1.5 * 1024 ** 3);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const CUTS = Number(process.env.BENCH_CUTS ?? 3);
const BASE = process.env.BENCH_DIR ?? '/tmp/burrow-multinas-bench';
const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'burrow.js');
const tag = crypto.randomBytes(3).toString('hex');
const S = 100 + (parseInt(tag.slice(0, 2), 16) % 100);
const ip = (...a: string[]): void => void execFileSync('ip', a, { stdio: 'inherit' });
const quiet = (...a: string[]): void => {
  try {
    execFileSync('ip', a, { stdio: 'ignore' });
  } catch {
    /* gone */
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = (): string => os.loadavg().map((x) => x.toFixed(1)).join(' ');
const made: string[] = [];
const children: ChildProcess[] = [];

interface Netns {
  a: string;
  b: string;
  aLink: string;
  bLink: string;
}

function netns(): Netns {
  const r = `bmbr-${tag}`;
  ip('netns', 'add', r);
  made.push(r);
  execFileSync('ip', ['netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  ip('link', 'add', `bmbh${tag}`, 'type', 'veth', 'peer', 'name', `bmbx${tag}`);
  ip('link', 'set', `bmbx${tag}`, 'netns', r);
  ip('addr', 'add', `10.${S}.0.1/24`, 'dev', `bmbh${tag}`);
  ip('-n', r, 'addr', 'add', `10.${S}.0.2/24`, 'dev', `bmbx${tag}`);
  ip('link', 'set', `bmbh${tag}`, 'up');
  ip('-n', r, 'link', 'set', `bmbx${tag}`, 'up');
  ip('-n', r, 'link', 'set', 'lo', 'up');
  ip('route', 'add', `10.${S}.0.0/16`, 'via', `10.${S}.0.2`);
  for (const n of [1, 2]) {
    const ns = `bmb${n}-${tag}`;
    ip('netns', 'add', ns);
    made.push(ns);
    ip('link', 'add', `bmb${n}r${tag}`, 'type', 'veth', 'peer', 'name', `bmb${n}m${tag}`);
    ip('link', 'set', `bmb${n}r${tag}`, 'netns', r);
    ip('link', 'set', `bmb${n}m${tag}`, 'netns', ns);
    ip('-n', r, 'addr', 'add', `10.${S}.${n}.1/24`, 'dev', `bmb${n}r${tag}`);
    ip('-n', ns, 'addr', 'add', `10.${S}.${n}.2/24`, 'dev', `bmb${n}m${tag}`);
    ip('-n', r, 'link', 'set', `bmb${n}r${tag}`, 'up');
    ip('-n', ns, 'link', 'set', `bmb${n}m${tag}`, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'route', 'add', 'default', 'via', `10.${S}.${n}.1`);
  }
  return { a: `bmb1-${tag}`, b: `bmb2-${tag}`, aLink: `bmb1m${tag}`, bLink: `bmb2m${tag}` };
}

function cleanup(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  quiet('link', 'del', `bmbh${tag}`);
  for (const ns of made.reverse()) quiet('netns', 'del', ns);
}

/** 20,000 files: most of them small (photos, documents), 1 % large, BYTES in all; each file's bytes differ. */
function makeData(): { dir: string; files: number; bytes: number } {
  const dir = path.join(BASE, `data-${FILES}-${BYTES}`);
  const marker = `${dir}.json`;
  if (fs.existsSync(marker)) return JSON.parse(fs.readFileSync(marker, 'utf8')) as { dir: string; files: number; bytes: number };
  fs.rmSync(dir, { recursive: true, force: true });
  const pool = crypto.randomBytes(64 * 1024 * 1024);
  const large = Math.max(1, Math.floor(FILES / 100));
  const small = FILES - large;
  const smallSize = Math.floor((BYTES * 0.5) / small);
  const largeSize = Math.floor((BYTES * 0.5) / large);
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const sub = path.join(dir, `d${Math.floor(i / 1000)}`, `e${Math.floor(i / 100) % 10}`);
    if (i % 100 === 0) fs.mkdirSync(sub, { recursive: true });
    const n = i < small ? Math.max(1, Math.floor(smallSize * (0.5 + ((i * 7919) % 1000) / 1000))) : largeSize;
    const off = crypto.randomInt(0, pool.length - Math.min(n, pool.length - 1));
    const body = n <= pool.length - off ? pool.subarray(off, off + n) : Buffer.concat([pool.subarray(off), pool.subarray(0, n - (pool.length - off))]);
    const head = crypto.randomBytes(32);
    fs.writeFileSync(path.join(sub, `f${i}.bin`), Buffer.concat([head, body.subarray(32)]));
    bytes += n;
  }
  const info = { dir, files: FILES, bytes };
  fs.writeFileSync(marker, JSON.stringify(info));
  return info;
}

function countFiles(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string): void => {
    let list: fs.Dirent[];
    try {
      list = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of list) {
      if (e.name === '.burrow-sync') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        files++;
        bytes += fs.statSync(p).size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, BURROW_LOG_LEVEL: 'warn' } });
  if (r.status !== 0) throw new Error(`burrow ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

function initMember(root: string, host: string, port: number): void {
  cli(['init', '--root', root]);
  const f = path.join(root, '.burrow', 'config.yaml');
  fs.writeFileSync(
    f,
    fs
      .readFileSync(f, 'utf8')
      .replace(/^( {2}publicAddresses:) \[\]$/m, `$1 ["${host}:${port}"]`)
      .replace(/^( {2}port:) 7421$/m, `$1 ${port}`)
      .replace(/^( {2}dht:) true$/m, '$1 false')
      .replace(/^( {2}lan:) true$/m, '$1 false')
      .replace(/^( {2}minFreeMb:) 1024$/m, '$1 0'),
  );
}

function start(args: string[], ns: string | null, ready: RegExp): Promise<{ child: ChildProcess; m: RegExpExecArray }> {
  const [cmd, argv] = ns ? ['ip', ['netns', 'exec', ns, process.execPath, BIN, ...args]] : [process.execPath, [BIN, ...args]];
  const child = spawn(cmd, argv as string[], { env: { ...process.env, BURROW_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${args[0]} not ready: ${out}`)), 120_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = ready.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ child, m });
      }
    });
  });
}

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  await new Promise<void>((r) => {
    c.once('exit', () => r());
    c.kill('SIGTERM');
  });
}

async function waitUntil(what: string, fn: () => boolean, timeoutMs: number, everyMs = 200): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(everyMs);
  }
}

async function rsyncCopy(data: string, ns: { a: string; b: string }, run: number): Promise<number> {
  const dest = path.join(BASE, `rsync-${run}`);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  const conf = path.join(BASE, `rsyncd-${tag}.conf`);
  fs.writeFileSync(conf, `uid = root\ngid = root\nuse chroot = no\n[m]\npath = ${dest}\nread only = false\n`);
  const d = spawn('ip', ['netns', 'exec', ns.b, 'rsync', '--daemon', '--no-detach', `--config=${conf}`, '--port=17873', `--address=10.${S}.2.2`], { stdio: 'ignore' });
  children.push(d);
  await sleep(1000);
  const t0 = performance.now();
  execFileSync('ip', ['netns', 'exec', ns.a, 'rsync', '-a', `${data}/`, `rsync://10.${S}.2.2:17873/m/`], { stdio: 'inherit' });
  const ms = performance.now() - t0;
  d.kill('SIGTERM');
  fs.rmSync(dest, { recursive: true, force: true });
  return ms;
}

async function burrowCopy(data: { dir: string; files: number; bytes: number }, ns: { a: string; b: string }, run: number): Promise<{ ms: number; a: ChildProcess; rootA: string }> {
  const rootA = path.join(BASE, `a-${run}`);
  const rootB = path.join(BASE, `b-${run}`);
  for (const r of [rootA, rootB]) fs.rmSync(r, { recursive: true, force: true });
  initMember(rootA, `10.${S}.1.2`, 17700);
  initMember(rootB, `10.${S}.2.2`, 17700);
  fs.rmdirSync(path.join(rootA, 'files'));
  execFileSync('cp', ['-al', data.dir, path.join(rootA, 'files')]);
  const inv = (JSON.parse(cli(['nas', 'invite', '--root', rootA, '--json'])) as { join: string }).join;
  cli(['nas', 'join', inv, '--root', rootB]);
  const a = await start(['start', '--root', rootA, '--port', '0', '--host', '127.0.0.1'], ns.a, /admin UI and API/);
  // A has indexed its store before B starts (what an existing member looks like).
  await waitUntil('A indexed', () => {
    try {
      const l = JSON.parse(cli(['nas', 'list', '--root', rootA, '--json'])) as { members: Array<{ self: boolean; heldFiles: number | null }> };
      return l.members.find((m) => m.self)?.heldFiles === data.files;
    } catch {
      return false;
    }
  }, 30 * 60_000, 2000);
  const t0 = performance.now();
  const b = await start(['start', '--root', rootB, '--port', '0', '--host', '127.0.0.1'], ns.b, /admin UI and API/);
  await waitUntil('B holds the store', () => {
    const c = countFiles(path.join(rootB, 'files'));
    return c.files === data.files && c.bytes === data.bytes;
  }, 60 * 60_000, 1000);
  const ms = performance.now() - t0;
  await stop(b.child);
  fs.rmSync(rootB, { recursive: true, force: true });
  return { ms, a: a.child, rootA };
}

/** A member's own id, as `burrow nas list` shows it. */
function selfId(root: string): string {
  const l = JSON.parse(cli(['nas', 'list', '--root', root, '--json'])) as { members: Array<{ id: string; self: boolean }> };
  const id = l.members.find((m) => m.self)?.id;
  if (!id) throw new Error(`no self member in ${root}`);
  return id;
}

/** The members that claimed (ran) a device's request, from the ledger folders of both roots. */
function ranBy(roots: string[], device: string, request: string): string[] {
  const ids = new Set<string>();
  for (const r of roots) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(r, '.burrow', 'cluster', 'claims', device, request));
    } catch {
      continue; // no claim synced here (yet)
    }
    // Finished claim files only (<member>.json): writeFileAtomic's temp files start with a dot.
    for (const n of names) if (/^[0-9A-Za-z_-]+\.json$/.test(n)) ids.add(n.slice(0, -'.json'.length));
  }
  return [...ids].sort();
}

interface Cut {
  ms: number;
  cut: string;
  /** the [get] just before the cut ran on the cut member and on no other */
  wasRunner: boolean;
  before: string[];
  after: string[];
}

async function failover(ns: Netns): Promise<Cut[]> {
  const rootA = path.join(BASE, 'fa');
  const rootB = path.join(BASE, 'fb');
  const dev = path.join(BASE, 'fdev');
  for (const r of [rootA, rootB, dev]) fs.rmSync(r, { recursive: true, force: true });
  initMember(rootA, `10.${S}.1.2`, 17800);
  initMember(rootB, `10.${S}.2.2`, 17800);
  // cut-<i>: the timed [get] after cut i; pre-<i>: an untimed [get] just before it, to see who runs requests.
  const names = ['cut-0.bin'];
  for (let i = 1; i <= CUTS; i++) names.push(`pre-${i}.bin`, `cut-${i}.bin`);
  for (const n of names) fs.writeFileSync(path.join(rootA, 'files', n), crypto.randomBytes(500_000));
  cli(['nas', 'join', (JSON.parse(cli(['nas', 'invite', '--root', rootA, '--json'])) as { join: string }).join, '--root', rootB]);
  // The runner is the lowest id in plain string order, as gate sorts ([self, ...live].sort()).
  const members = [
    { name: 'A', id: selfId(rootA), root: rootA, ns: ns.a, link: ns.aLink, via: `10.${S}.1.1` },
    { name: 'B', id: selfId(rootB), root: rootB, ns: ns.b, link: ns.bLink, via: `10.${S}.2.1` },
  ];
  const [runner, other] = [...members].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)) as [(typeof members)[0], (typeof members)[0]];
  const label = (ids: string[]): string => (ids.length === 0 ? 'nobody (no claim)' : ids.map((id) => members.find((m) => m.id === id)?.name ?? id).join('+'));
  console.log(`cuts: A is ${members[0]!.id}, B is ${members[1]!.id}; the lowest id, ${runner.name}, runs requests, so each cut cuts ${runner.name}`);
  await start(['start', '--root', rootA, '--port', '0', '--host', '127.0.0.1'], ns.a, /admin UI and API/);
  await start(['start', '--root', rootB, '--port', '0', '--host', '127.0.0.1'], ns.b, /admin UI and API/);
  // A device's join string names the members its NAS knows then, and the agent (no DHT, no LAN)
  // reaches no other: added before B's member file reached A over the ledger, the phone knows A
  // alone, and a cut of A leaves it with nobody to ask. So wait until A lists B, as
  // test/multinas/two-zones-netns.test.ts does.
  await waitUntil('A lists B', () => {
    try {
      const l = JSON.parse(cli(['nas', 'list', '--root', rootA, '--json'])) as { members: Array<{ id: string; addresses: string[] }> };
      return l.members.some((m) => m.id === members[1]!.id && m.addresses.length > 0);
    } catch {
      return false;
    }
  }, 120_000, 500);
  const join = (JSON.parse(cli(['device', 'add', 'phone', '--root', rootA, '--json'])) as { join: string }).join;
  const ag = await start(['agent', '--root', dev, '--join', join, '--port', '0', '--no-dht', '--no-lan', '--sync-host', '127.0.0.1'], null, /catalogue: (http:\/\/\S+)\n/);
  const knows = (JSON.parse(fs.readFileSync(path.join(dev, '.burrow-agent', 'config.json'), 'utf8')) as { nas: { addresses: string[] } }).nas.addresses;
  console.log(`the phone syncs with ${knows.join(', ')}`);
  if (!knows.includes(`10.${S}.1.2:17800`) || !knows.includes(`10.${S}.2.2:17800`)) throw new Error('the phone does not know both members');
  const url = ag.m[1]!;
  const token = () => fs.readFileSync(path.join(dev, '.burrow-agent', 'token'), 'utf8').trim();
  const get = async (p: string): Promise<string> => {
    const id = `bench-${crypto.randomUUID()}`;
    const res = await fetch(`${url}api/requests`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Burrow-Token': token() }, body: JSON.stringify({ id, device: 'phone', action: 'get', path: p, args: {}, confirm: true }) });
    if (res.status !== 202) throw new Error(`get ${p}: ${res.status}`);
    return id;
  };
  const on = (p: string) => () => fs.existsSync(path.join(dev, 'files', p)) && fs.statSync(path.join(dev, 'files', p)).size === 500_000;
  await waitUntil('phone on B', () => fs.existsSync(path.join(rootB, 'devices', 'phone')), 120_000);
  // Whichever member is cut, the other must already hold the file the phone asks for.
  await waitUntil('B holds the bench files', () => names.every((n) => fs.existsSync(path.join(rootB, 'files', n)) && fs.statSync(path.join(rootB, 'files', n)).size === 500_000), 120_000);
  await get('cut-0.bin');
  await waitUntil('first get', on('cut-0.bin'), 120_000, 50);
  const out: Cut[] = [];
  for (let i = 1; i <= CUTS; i++) {
    // Who runs requests right now (the runner back from the last cut, caught up and live
    // again?): an untimed [get] whose claim shows it. The claim must also have reached the other
    // member before the cut, or that member may run the request again after it
    // (docs/ARCHITECTURE.md), which would not be the cut's cost.
    const pre = await get(`pre-${i}.bin`);
    await waitUntil(`pre-${i}.bin on the phone`, on(`pre-${i}.bin`), 120_000, 50);
    await waitUntil(`pre-${i}.bin's claim on ${other.name}`, () => ranBy([other.root], 'phone', pre).length > 0, 60_000, 100);
    const before = ranBy([rootA, rootB], 'phone', pre);
    ip('-n', runner.ns, 'link', 'set', runner.link, 'down');
    const t0 = performance.now();
    const id = await get(`cut-${i}.bin`);
    await waitUntil(`cut-${i}.bin on the phone`, on(`cut-${i}.bin`), 120_000, 50);
    const ms = performance.now() - t0;
    const after = ranBy([rootA, rootB], 'phone', id);
    const wasRunner = before.length === 1 && before[0] === runner.id;
    out.push({ ms, cut: runner.name, wasRunner, before, after });
    console.log(`  cut ${i}: cut ${runner.name} (${runner.id}), the runner: ${wasRunner ? 'yes' : 'NO'} (the [get] before the cut ran on ${label(before)}); next [get] after ${(ms / 1000).toFixed(1)} s, ran on ${label(after)} (load ${load()})`);
    ip('-n', runner.ns, 'link', 'set', runner.link, 'up');
    quiet('-n', runner.ns, 'route', 'add', 'default', 'via', runner.via);
    await sleep(15_000); // the runner back and caught up before the next cut
  }
  return out;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (ip netns)');
  fs.mkdirSync(BASE, { recursive: true });
  process.on('exit', cleanup);
  process.on('SIGINT', () => process.exit(130));
  console.log(`multinas bench, ${new Date().toISOString()}, load ${load()}`);
  const data = makeData();
  console.log(`store: ${data.files} files, ${(data.bytes / 1024 ** 3).toFixed(2)} GiB in ${data.dir}`);
  const ns = netns();
  const rs: number[] = [];
  const bw: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const r = await rsyncCopy(data.dir, ns, run);
    rs.push(r);
    console.log(`run ${run}: rsync -a A→B ${(r / 1000).toFixed(1)} s (load ${load()})`);
    const b = await burrowCopy(data, ns, run);
    bw.push(b.ms);
    console.log(`run ${run}: new member B holds the store after ${(b.ms / 1000).toFixed(1)} s (load ${load()})`);
    await stop(b.a);
    fs.rmSync(b.rootA, { recursive: true, force: true });
  }
  const ratio = median(bw) / median(rs);
  console.log(`\nnew member copy: Burrow ${(median(bw) / 1000).toFixed(1)} s, rsync -a ${(median(rs) / 1000).toFixed(1)} s (medians of ${RUNS}): ${ratio.toFixed(2)}× (goal ≤ 1.5×: ${ratio <= 1.5 ? 'met' : 'missed'})`);
  const cuts = await failover(ns);
  const m = median(cuts.map((c) => c.ms));
  const hit = cuts.filter((c) => c.wasRunner).length;
  console.log(`zone cut → next successful [get]: median ${(m / 1000).toFixed(1)} s of ${cuts.length} (${cuts.map((c) => (c.ms / 1000).toFixed(1)).join(', ')} s) (goal ≤ 10 s: ${m <= 10_000 ? 'met' : 'missed'}); cut member ${cuts[0]?.cut ?? '-'}, the runner in ${hit} of ${cuts.length} cuts`);
  console.log(`load average at the end: ${load()}`);
  cleanup();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  cleanup();
  process.exit(1);
});
