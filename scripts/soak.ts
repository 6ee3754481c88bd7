/**
 * npm run soak -- --minutes N --seed S [--phase-seconds 40] [--keep]
 *
 * A chaos soak (issue 17): a NAS, two device agents and a friend's bare `burrow sync` as real
 * processes on 127.0.0.1; a seeded driver does catalogue actions, local edits on devices, store
 * edits on the NAS, dedupe and balance runs, and kill -9 of any process at any moment. After every
 * phase it stops the faults, restarts what is dead, settles, and checks the invariants against its
 * model (scripts/soak/checks.ts). On a failure it prints the seed, phase, step and action list,
 * keeps the roots and exits 1. The choices are reproducible from the seed; the timing of the
 * processes is not, so a failure is reproduced by the same seed plus the printed action list.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { prng } from '../server/src/util/prng.js';
import { REPO, tempRoot, waitFor } from '../test/agent/harness.js';
import { fillToLastByte } from '../test/helpers/small-disk.js';
import { checkAll, resolveEithers, type World } from './soak/checks.js';
import { CUT_DEVICE, DEVICES, Household, type Device, type Who } from './soak/household.js';
import { NetnsLink } from './soak/netns-link.js';
import { Model, sha256, shaOf, treeShas, type PendingRequest } from './soak/model.js';

const opts = new Command('soak')
  .option('--minutes <n>', 'how long to run', '5')
  .option('--seed <n>', 'PRNG seed', String(Date.now() % 1_000_000))
  .option('--phase-seconds <n>', 'length of one phase of actions and faults', '40')
  .option('--settle-seconds <n>', 'how long the household may take to converge after a phase', '180')
  .option('--tmpfs-mb <n>', 'put every root on a tmpfs of this size, so a full disk can be injected (0 = no tmpfs, no full-disk faults)', '256')
  .option('--trash-retention-seconds <n>', 'trash.retentionDays of the NAS, in seconds (short, so items outlive it during the run)', '240')
  .option('--no-netns', 'do not put beta in a network namespace (no network cuts)')
  .option('--keep', 'keep the roots even when every invariant holds')
  .parse(process.argv)
  .opts<{ minutes: string; seed: string; phaseSeconds: string; settleSeconds: string; tmpfsMb: string; trashRetentionSeconds: string; netns: boolean; keep?: boolean }>();

const SEED = Number(opts.seed);
// On a loaded machine a start can take more than the tests' 30 s: that is not what the soak looks for.
process.env.BURROW_START_TIMEOUT_MS ??= '120000';
const rnd = prng(SEED);
const pick = <T>(xs: readonly T[]): T | undefined => (xs.length ? xs[Math.floor(rnd() * xs.length)] : undefined);
const chance = (p: number) => rnd() < p;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bytes = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
};

const base = tempRoot('burrow-soak-');
/** Whether base is a small tmpfs of its own (mounting needs root); only then is a full disk injected. */
const onTmpfs = Number(opts.tmpfsMb) > 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${Number(opts.tmpfsMb)}m`, 'tmpfs', base]).status === 0;
/** While the disk is full, the driver's own writes (device and store edits) pause: a half-written file would make the model lie. */
let diskFull = false;
/** beta's own network namespace behind a veth pair, so the NAS link can be cut (needs root). */
const netns = opts.netns ? NetnsLink.create() : { link: null, why: '--no-netns was given' };
const hh = new Household(base, netns.link);
const RETENTION_MS = Number(opts.trashRetentionSeconds) * 1000;
const model = new Model();
const actions: string[] = [];
const stats = { actions: 0, skipped: 0, kills: 0, diskFulls: 0, cuts: 0, restarts: 0, requests: 0, requestsUnknown: 0, replays: 0, phases: 0, trashEmptied: 0, byKind: {} as Record<string, number> };
let phase = 0;
let step = 0;
let counter = 0;
/** Known product bugs seen so far (reported, not fatal): see SOAK.md. */
const known = new Map<string, string>();
const uid = () => `s${SEED}p${phase}s${step}n${++counter}`;

function record(kind: string, line: string): void {
  stats.actions++;
  stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
  actions.push(`[${phase}.${step}] ${line}`);
  try {
    fs.appendFileSync(path.join(base, 'actions.log'), `${new Date().toISOString()} [${phase}.${step}] ${line}\n`);
  } catch {
    /* a full disk: the list stays in memory and is printed on a failure */
  }
}

// ---------- catalogue requests through the agents' local APIs ----------

async function nasOutcome(id: string): Promise<{ state: string; result: Record<string, unknown> | null; reason?: string } | null> {
  if (!hh.alive('nas')) return null;
  try {
    const r = await hh.nasGet<{ state: string; result: Record<string, unknown> | null; reason?: string }>(`/api/requests/${id}`);
    return r.status === 200 && r.json && (r.json.state === 'done' || r.json.state === 'failed') ? r.json : null;
  } catch {
    return null;
  }
}

async function request(device: Device, action: string, p: string, args: Record<string, unknown>, touches: string[], apply: PendingRequest['apply']): Promise<void> {
  const id = uid();
  for (const t of touches) model.busy.add(t);
  const pr: PendingRequest = { id, device, action, path: p, args, phase, step, posted: false, apply };
  model.pending.set(id, pr);
  stats.requests++;
  try {
    pr.posted = (await hh.agentRequest(device, { id, action, path: p, args })) === 202;
  } catch {
    pr.posted = false;
  }
  record(action, `${device} ${action} ${JSON.stringify(p)} ${JSON.stringify(args)} id=${id}${pr.posted ? '' : ' (post failed: outcome unknown)'}`);
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    const o = await nasOutcome(id);
    if (o) return finish(pr, o);
    await sleep(150);
  }
  stats.requestsUnknown++;
  actions.push(`[${phase}.${step}]   ${id}: no outcome yet (either; settled after the phase)`);
}

function finish(pr: PendingRequest, o: { state: string; result: Record<string, unknown> | null; reason?: string }): void {
  model.pending.delete(pr.id);
  actions.push(`[${pr.phase}.${pr.step}]   ${pr.id}: ${o.state}${o.reason ? ` (${o.reason})` : ''}`);
  if (o.state === 'done') pr.apply({ ...o, id: pr.id });
  replayable.push({ id: pr.id, device: pr.device, action: pr.action, path: pr.path, args: pr.args });
}

/** Resolve every request whose outcome is open: re-post it with the same id (the NAS must run it once) and wait. */
async function settleRequests(deadline: number): Promise<string[]> {
  const problems: string[] = [];
  for (const pr of [...model.pending.values()]) {
    let o = await nasOutcome(pr.id);
    if (!o) {
      try {
        if (!pr.posted || (await hh.nasGet(`/api/requests/${pr.id}`)).status === 404) {
          pr.posted = (await hh.agentRequest(pr.device, { id: pr.id, action: pr.action, path: pr.path, args: pr.args })) === 202;
          actions.push(`[${phase}.settle] re-posted ${pr.id} (${pr.action} ${pr.path})`);
        }
      } catch {
        /* waited for below */
      }
      o = await waitFor(`the outcome of ${pr.id}`, () => nasOutcome(pr.id), Math.max(5_000, deadline - Date.now()), 250).catch(() => null);
    }
    if (o) finish(pr, o);
    else problems.push(`request ${pr.id} (${pr.device} ${pr.action} ${pr.path}) never finished`);
  }
  return problems;
}

// ---------- the action mix ----------

const storeDir = () => path.join(hh.nasRoot, 'files');
const devFile = (d: Device, p: string) => path.join(hh.agentRoot(d), 'files', p);
const other = (d: Device): Device => (d === 'alpha' ? 'beta' : 'alpha');
const FRIEND_SRC = 'friend-src';
const free = (p: string) => !model.isBusy(p) && !p.startsWith(`${FRIEND_SRC}/`) && p !== FRIEND_SRC;
const freeFiles = () => [...model.files.keys()].filter(free).sort();
const freeDirs = () => ['', ...[...model.dirs].filter(free).sort()];
const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

type Act = (d: Device) => Promise<boolean>;
const ACTS: Array<[number, string, Act]> = [
  [14, 'get', async (d) => {
    const p = pick(freeFiles().filter((f) => !model.wants.get(d)!.has(f)));
    if (!p) return false;
    await request(d, 'get', p, {}, [p], () => model.wants.get(d)!.add(p));
    return true;
  }],
  [5, 'delete', async (d) => {
    const p = pick([...model.wants.get(d)!].filter(free).sort());
    if (!p) return false;
    await request(d, 'delete', p, {}, [p], () => model.wants.get(d)!.delete(p));
    return true;
  }],
  [4, 'destroy', async (d) => {
    const p = pick(freeFiles().filter((f) => !model.inActiveShare(f)));
    if (!p) return false;
    const shas = model.files.get(p)!.shas;
    await request(d, 'destroy', p, {}, [p], (o) => {
      model.files.delete(p);
      for (const w of model.wants.values()) w.delete(p);
      model.destroyed.push({ path: p, shas, requestId: o.id });
    });
    return true;
  }],
  [6, 'move', async (d) => {
    const p = pick([...model.wants.get(d)!].filter((f) => free(f) && !model.wants.get(other(d))!.has(f)).sort());
    if (!p) return false;
    await request(d, 'move', p, { to: [other(d)] }, [p], () => {
      model.wants.get(d)!.delete(p);
      model.wants.get(other(d))!.add(p);
    });
    return true;
  }],
  [3, 'share', async (d) => {
    const p = pick(freeFiles().filter((f) => !model.inActiveShare(f)));
    if (!p) return false;
    await request(d, 'share', p, {}, [p], (o) => {
      const id = String(o.result?.shareId ?? '');
      if (id) model.shares.set(id, { id, source: p, kind: 'file', active: true });
    });
    return true;
  }],
  [3, 'revoke', async (d) => {
    const s = pick([...model.shares.values()].filter((x) => x.active && x.kind === 'file' && free(x.source)));
    if (!s) return false;
    await request(d, 'revoke', s.source, { shareId: s.id }, [s.source], () => {
      s.active = false;
      model.revokeTorrents(s.source);
    });
    return true;
  }],
  [3, 'share-folder', async (d) => {
    const dir = pick(freeDirs().filter((x) => x !== '' && !model.inActiveShare(x)));
    if (!dir) return false;
    const limitMb = pick([-1, 1, 50])!;
    await request(d, 'share-folder', dir, { limitMb }, [dir], (o) => {
      const id = String(o.result?.shareId ?? '');
      if (id) model.shares.set(id, { id, source: dir, kind: 'folder', active: true });
    });
    return true;
  }],
  [2, 'revoke-share', async (d) => {
    const s = pick([...model.shares.values()].filter((x) => x.active && x.kind === 'folder' && free(x.source)));
    if (!s) return false;
    await request(d, 'revoke-share', s.source, { shareId: s.id }, [s.source], (o) => {
      s.active = false;
      model.revokeTorrents(s.source);
      // By design the links move to a new share, <id>-revoked-<date>, under new secrets.
      const to = String(o.result?.revokedTo ?? '');
      if (to) model.shares.set(to, { id: to, source: s.source, kind: 'folder', active: true });
    });
    return true;
  }],
  [5, 'mkdir', async (d) => {
    const parent = pick(freeDirs().filter((x) => x.split('/').length < 3))!;
    const name = `m${phase}-${step}-dir`;
    await request(d, 'mkdir', parent, { name }, [join(parent, name)], () => {
      model.dirs.add(join(parent, name));
      model.mkdirs.push({ parent, name });
    });
    return true;
  }],
  [2, 'destroy-folder', async (d) => {
    const dir = pick(model.mkdirs.map((m) => join(m.parent, m.name)).filter((x) => model.dirs.has(x) && free(x) && !model.inActiveShare(x)).sort());
    if (!dir) return false;
    const under = model.filesUnder(dir).map((p) => ({ p, shas: model.files.get(p)!.shas }));
    await request(d, 'destroy-folder', dir, {}, [dir], (o) => {
      // Folders made inside it go too (whether the folder itself stays is not checked).
      model.mkdirs = model.mkdirs.filter((m) => { const full = join(m.parent, m.name); return full !== dir && !full.startsWith(`${dir}/`); });
      for (const x of [...model.dirs]) if (x.startsWith(`${dir}/`)) model.dirs.delete(x);
      for (const u of under) {
        model.files.delete(u.p);
        for (const w of model.wants.values()) w.delete(u.p);
        model.destroyed.push({ path: u.p, shas: u.shas, requestId: o.id });
      }
    });
    return true;
  }],
  [2, 'torrent', async (d) => torrentAct(d, 'torrent')],
  [1, 'torrent-once', async (d) => torrentAct(d, 'torrent-once')],
  [3, 'replay', async (d) => {
    // Deliver an already finished request again (as a synced worklist might): it must not run twice.
    const past = pick(replayable.filter((r) => r.device === d));
    if (!past) return false;
    stats.replays++;
    try {
      await hh.agentRequest(d, past);
    } catch {
      /* a replay that cannot even be posted proves nothing, and harms nothing */
    }
    record('replay', `${d} replays ${past.action} ${past.path} id=${past.id}`);
    return true;
  }],
  // ---------- local edits on the devices ----------
  [6, 'local-new', async (d) => {
    const dir = pick(freeDirs().filter((x) => !model.inActiveShare(x)))!;
    const p = join(dir, `${d}-new-${phase}-${step}.txt`);
    const buf = bytes(200 + Math.floor(rnd() * 20_000));
    fs.mkdirSync(path.dirname(devFile(d, p)), { recursive: true });
    fs.writeFileSync(devFile(d, p), buf);
    model.setFile(p, sha256(buf));
    model.wants.get(d)!.add(p);
    model.busy.add(p);
    record('local-new', `${d} writes files/${p} (${buf.length} B)`);
    return true;
  }],
  [5, 'local-edit', async (d) => {
    const p = pick([...model.wants.get(d)!].filter((f) => free(f) && !model.inActiveShare(f)).sort());
    if (!p || !fs.existsSync(devFile(d, p))) return false;
    const buf = bytes(100 + Math.floor(rnd() * 10_000));
    fs.writeFileSync(devFile(d, p), buf);
    model.setFile(p, sha256(buf));
    model.busy.add(p);
    record('local-edit', `${d} edits files/${p} (${buf.length} B)`);
    return true;
  }],
  [3, 'local-rename', async (d) => {
    const p = pick([...model.wants.get(d)!].filter((f) => free(f) && !model.inActiveShare(f)).sort());
    if (!p || !fs.existsSync(devFile(d, p))) return false;
    const q = `${p}.ren${phase}-${step}`;
    const s = shaOf(devFile(d, p));
    if (!s) return false;
    fs.renameSync(devFile(d, p), devFile(d, q));
    model.wants.get(d)!.delete(p);
    model.wants.get(d)!.add(q);
    model.setFile(q, s);
    model.busy.add(p).add(q);
    record('local-rename', `${d} renames files/${p} -> ${q}`);
    return true;
  }],
  [3, 'local-delete', async (d) => {
    const p = pick([...model.wants.get(d)!].filter(free).sort());
    if (!p || !fs.existsSync(devFile(d, p))) return false;
    fs.rmSync(devFile(d, p));
    model.wants.get(d)!.delete(p);
    model.busy.add(p);
    record('local-delete', `${d} deletes files/${p}`);
    return true;
  }],
  [2, 'two-device-edit', async () => {
    const p = pick([...model.wants.get('alpha')!].filter((f) => model.wants.get('beta')!.has(f) && free(f) && !model.inActiveShare(f)).sort());
    if (!p || !fs.existsSync(devFile('alpha', p)) || !fs.existsSync(devFile('beta', p))) return false;
    const a = bytes(300 + Math.floor(rnd() * 5000));
    const b = bytes(300 + Math.floor(rnd() * 5000));
    fs.writeFileSync(devFile('alpha', p), a);
    fs.writeFileSync(devFile('beta', p), b);
    model.setFile(p, sha256(a), sha256(b));
    model.busy.add(p);
    record('two-device-edit', `alpha and beta both edit files/${p} (either version may win; a conflict copy may appear)`);
    return true;
  }],
  // ---------- store edits on the NAS, dedupe and balance ----------
  [5, 'store-new', async () => {
    const dir = pick(freeDirs().filter((x) => !model.inActiveShare(x)))!;
    const p = join(dir, `store-new-${phase}-${step}.bin`);
    const buf = bytes(500 + Math.floor(rnd() * 60_000));
    fs.writeFileSync(path.join(storeDir(), p), buf);
    model.setFile(p, sha256(buf));
    model.busy.add(p);
    record('store-new', `NAS store gets files/${p} (${buf.length} B)`);
    return true;
  }],
  [4, 'store-edit', async () => {
    const p = pick(freeFiles().filter((f) => !model.inActiveShare(f)));
    if (!p) return false;
    const buf = bytes(100 + Math.floor(rnd() * 30_000));
    const abs = path.join(storeDir(), p);
    const before = { ino: fs.statSync(abs).ino, sha: shaOf(abs) };
    // Dedupe hard-links equal files, so an in-place edit changes every path of that inode. A copy
    // with the same content that dedupe might link at this very moment may or may not change: "either".
    const mates = [...model.files].filter(([q, f]) => q !== p && before.sha !== null && f.shas.size === 1 && f.shas.has(before.sha)).map(([q]) => q);
    const linked = new Set(mates.filter((q) => fs.statSync(path.join(storeDir(), q), { throwIfNoEntry: false })?.ino === before.ino));
    fs.writeFileSync(abs, buf); // in place, as a user over SMB would
    const nowLinked = new Set(mates.filter((q) => fs.statSync(path.join(storeDir(), q), { throwIfNoEntry: false })?.ino === before.ino));
    model.setFile(p, sha256(buf));
    model.busy.add(p);
    for (const q of mates) {
      model.busy.add(q);
      if (linked.has(q) && nowLinked.has(q)) model.setFile(q, sha256(buf));
      else if (linked.has(q) || nowLinked.has(q)) model.setFile(q, before.sha!, sha256(buf));
      else model.setFile(q, before.sha!, sha256(buf));
    }
    record('store-edit', `NAS store edits files/${p} in place (${buf.length} B)`);
    return true;
  }],
  [3, 'store-dup', async () => {
    const src = pick(freeFiles());
    const dir = pick(freeDirs().filter((x) => !model.inActiveShare(x)));
    if (!src || dir === undefined) return false;
    const p = join(dir, `dup-${phase}-${step}.bin`);
    const s = shaOf(path.join(storeDir(), src));
    if (!s || !model.files.get(src)!.shas.has(s)) return false;
    fs.copyFileSync(path.join(storeDir(), src), path.join(storeDir(), p));
    model.setFile(p, s);
    model.busy.add(p);
    record('store-dup', `NAS store copies files/${src} to files/${p} (a dedupe candidate)`);
    return true;
  }],
  [2, 'dedupe-run', async () => {
    const r = await runCli(['dedupe', '--root', hh.nasRoot, '--json']);
    record('dedupe-run', `burrow dedupe -> exit ${r.code}${r.code ? `: ${r.err.trim().split('\n').pop()}` : ''}`);
    return true;
  }],
  [1, 'balance-run', async () => {
    const r = await runCli(['balance', '--root', hh.nasRoot, '--json']);
    // No device has a limit here, so an eviction is a finding (15 was one): name it in the log.
    let evicted = '';
    try {
      const rep = JSON.parse(r.out) as { devices: Array<{ device: string; evicted: Array<{ path: string }> }> };
      evicted = rep.devices.filter((d) => d.evicted.length).map((d) => `; evicted from ${d.device}: ${d.evicted.map((e) => e.path).join(', ')}`).join('');
    } catch {
      /* not JSON: the exit code says what happened */
    }
    record('balance-run', `burrow balance -> exit ${r.code}${r.code ? `: ${r.err.trim().split('\n').pop()}` : ''}${evicted}`);
    return true;
  }],
];
/** [create torrent] / [create 1-time torrent] of a file (mostly) or a folder. */
async function torrentAct(d: Device, action: 'torrent' | 'torrent-once'): Promise<boolean> {
  const folder = chance(0.3);
  const p = folder ? pick(freeDirs().filter((x) => x !== '' && model.filesUnder(x).length > 0)) : pick(freeFiles());
  if (!p) return false;
  const shas = folder ? null : model.files.get(p)!.shas;
  // Only a file whose content is settled has one sha the web seed must serve.
  const sha = shas && shas.size === 1 ? [...shas][0]! : null;
  await request(d, action, p, {}, [p], (o) => {
    const r = o.result ?? {};
    model.torrents.push({ id: String(r.torrentId ?? ''), path: p, kind: action === 'torrent' ? 'public' : 'once', folder, sha, webSeed: String(r.webSeed ?? ''), requestId: o.id });
  });
  return true;
}

const replayable: Array<{ id: string; device: Device; action: string; path: string; args: Record<string, unknown> }> = [];
const TOTAL_WEIGHT = ACTS.reduce((a, [w]) => a + w, 0);

function runCli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [path.join(REPO, 'bin', 'burrow.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BURROW_LOG_LEVEL: 'warn' } });
    let out = '';
    let err = '';
    c.stdout!.on('data', (d) => (out += d));
    c.stderr!.on('data', (d) => (err += d));
    const t = setTimeout(() => c.kill('SIGKILL'), 120_000);
    c.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}

// ---------- faults ----------

interface FaultPlan {
  at: number;
  who: Who | 'disk' | 'cut';
  downMs: number;
}
function planFaults(phaseMs: number): FaultPlan[] {
  const out: FaultPlan[] = [];
  const n = chance(0.25) ? 0 : chance(0.6) ? 1 : 2;
  const kinds: Array<Who | 'disk' | 'cut'> = ['nas', 'alpha', 'beta', 'friend'];
  if (onTmpfs) kinds.push('disk');
  if (netns.link) kinds.push('cut', 'cut');
  for (let i = 0; i < n; i++) {
    const who = pick(kinds)!;
    // A cut lasts longer than a restart: long enough for open connections to time out.
    out.push({ at: Math.floor(rnd() * phaseMs * 0.9), who, downMs: who === 'cut' ? 2000 + Math.floor(rnd() * 25_000) : 300 + Math.floor(rnd() * 5000) });
  }
  return out;
}
function armFaults(plans: FaultPlan[]): { stop: () => void } {
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  for (const f of plans) {
    timers.push(
      setTimeout(() => {
        if (stopped) return;
        if (f.who === 'disk') {
          if (diskFull) return;
          stats.diskFulls++;
          actions.push(`[${phase}.${step}] FAULT disk full for ${f.downMs * 2} ms`);
          fillDisk();
          timers.push(setTimeout(emptyDisk, f.downMs * 2));
          return;
        }
        if (f.who === 'cut') {
          const link = netns.link!;
          if (link.cut) return;
          stats.cuts++;
          actions.push(`[${phase}.${step}] FAULT network cut between the NAS and ${CUT_DEVICE} for ${f.downMs} ms`);
          link.down();
          hh.log.push(`${new Date().toISOString()} network cut (${CUT_DEVICE})`);
          timers.push(setTimeout(restoreLink, f.downMs));
          return;
        }
        const who = f.who;
        stats.kills++;
        actions.push(`[${phase}.${step}] FAULT kill -9 ${who}, restart after ${f.downMs} ms`);
        void hh.kill(who).then(() => {
          // Anything in flight now has an unknown outcome: the model says "either" (settled later).
          timers.push(setTimeout(() => void hh.restart(who).then(() => stats.restarts++, () => undefined), f.downMs));
        });
      }, f.at),
    );
  }
  return {
    stop: () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      emptyDisk();
      restoreLink();
    },
  };
}

function restoreLink(): void {
  if (!netns.link?.cut) return;
  netns.link.up();
  hh.log.push(`${new Date().toISOString()} network restored (${CUT_DEVICE})`);
}

const ballast = () => path.join(base, 'ballast');
/** Fill the tmpfs to the last byte with a ballast file. */
function fillDisk(): void {
  diskFull = true;
  fillToLastByte(ballast());
  hh.log.push(`${new Date().toISOString()} disk full`);
}
function emptyDisk(): void {
  if (!diskFull) return;
  fs.rmSync(ballast(), { force: true });
  diskFull = false;
  hh.log.push(`${new Date().toISOString()} disk has room again`);
}

// ---------- setup ----------

function seedStore(files: string): void {
  for (const dir of ['docs', 'photos', 'music/live', FRIEND_SRC]) {
    fs.mkdirSync(path.join(files, dir), { recursive: true });
    model.dirs.add(dir);
    if (dir === 'music/live') model.dirs.add('music');
    const n = dir === FRIEND_SRC ? 4 : 6;
    for (let i = 0; i < n; i++) {
      const p = `${dir}/seed-${i}.bin`;
      const buf = bytes(100 + Math.floor(rnd() * (i === 0 ? 400_000 : 40_000)));
      fs.writeFileSync(path.join(files, p), buf);
      model.setFile(p, sha256(buf));
    }
  }
}

/**
 * Node's diagnostic report (JS stack, libuv handles, heap) of every live process, moved into the
 * base folder: what a process that stopped answering was doing is otherwise lost with the kill.
 */
function takeReports(): string[] {
  const live = (['friend', 'alpha', 'beta', 'nas'] as Who[]).map((w) => [w, hh.proc(w)?.child] as const).filter(([, c]) => c && c.exitCode === null && c.signalCode === null);
  for (const [, c] of live) c!.kill('SIGUSR2');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000); // the reports are written on the processes' own threads
  const out: string[] = [];
  for (const [w, c] of live) {
    for (const f of fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('report.') && n.includes(`.${c!.pid}.`))) {
      const to = path.join(base, `report-${w}-${f}`);
      try {
        fs.copyFileSync(path.join(os.tmpdir(), f), to);
        fs.rmSync(path.join(os.tmpdir(), f));
        out.push(to);
      } catch {
        /* a full disk: the report stays in the temp folder */
      }
    }
  }
  return out;
}

/**
 * The actions that named a file or folder the problems name (or a folder above it), and the
 * faults: the first cut of a reproduction. Not replayed: process timing is not reproducible, so
 * whether this list alone fails again is for a person to check (SOAK.md shows how the findings
 * were reduced to tests).
 */
function reducedActions(problems: string[]): string[] {
  const named = new Set<string>();
  for (const p of problems) for (const m of p.matchAll(/(?:files|devices\/[^/\s]+|shared\/[^/\s]+)\/([^\s"(),]+)/g)) named.add(m[1]!);
  for (const p of problems) for (const m of p.matchAll(/\(([^\s()]+\.[A-Za-z0-9]+)\)/g)) named.add(m[1]!);
  if (named.size === 0) return [];
  const touches = (a: string): boolean => [...named].some((n) => a.includes(n) || n.split('/').some((_, i, parts) => i > 0 && a.includes(`"${parts.slice(0, i).join('/')}"`)));
  const reduced = actions.filter((a) => a.includes('FAULT') || touches(a));
  return [`actions on ${[...named].join(', ')} and every fault (${reduced.length} of ${actions.length}; a first cut of a reproduction, not replayed):`, ...reduced.map((a) => `  ${a}`)];
}

function fail(problems: string[], where: string): never {
  const reports = takeReports();
  for (const w of ['friend', 'alpha', 'beta', 'nas'] as Who[]) hh.proc(w)?.child.kill('SIGKILL');
  const out = [
    '',
    `SOAK FAILED at ${where} (seed ${SEED}, phase ${phase}, step ${step})`,
    ...problems.slice(0, 60).map((p) => `  - ${p}`),
    problems.length > 60 ? `  … ${problems.length - 60} more` : '',
    ...[...known.values()].map((k) => `known bug also seen (not fatal): ${k}`),
    `faults and restarts:`,
    ...hh.log.map((l) => `  ${l}`),
    `actions (${actions.length}; also in ${path.join(base, 'actions.log')}):`,
    ...actions.slice(-150).map((a) => `  ${a}`),
    ...reducedActions(problems),
    `roots kept for inspection: ${base}${onTmpfs ? ` (a tmpfs: umount ${base} when done)` : ''}`,
    ...(reports.length ? [`diagnostic reports of the processes still running: ${reports.join(' ')}`] : []),
    `rerun: npm run soak -- --minutes ${opts.minutes} --seed ${SEED} --phase-seconds ${opts.phaseSeconds}`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  fs.writeFileSync(path.join(base, 'failure.txt'), out.join('\n') + '\n');
  return process.exit(1);
}

async function main(): Promise<void> {
  const started = Date.now();
  const endAt = started + Number(opts.minutes) * 60_000;
  const phaseMs = Number(opts.phaseSeconds) * 1000;
  process.stdout.write(`soak: seed ${SEED}, ${opts.minutes} min, roots in ${base}\n`);
  process.stdout.write(
    onTmpfs
      ? `soak: roots on a ${opts.tmpfsMb} MB tmpfs: full-disk faults are on.\n`
      : '**************** soak: SKIPPED full-disk faults: the roots are not on a tmpfs of their own (--tmpfs-mb 0, or mount needs root) ****************\n',
  );
  process.stdout.write(
    netns.link
      ? `soak: ${CUT_DEVICE} runs in network namespace ${netns.link.ns} (veth ${netns.link.hostIf} ${netns.link.hostIp} <-> ${netns.link.nsIp}): network-cut faults are on.\n`
      : `**************** soak: SKIPPED network cuts: no network namespace for ${CUT_DEVICE} (${netns.why}); only kill -9, restart and a full disk are injected ****************\n`,
  );
  process.stdout.write(`soak: trash retention ${RETENTION_MS / 1000} s\n`);
  const canaryDir = path.join(base, 'canary');
  fs.mkdirSync(path.join(canaryDir, 'sub'), { recursive: true });
  for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(canaryDir, i % 2 ? 'sub' : '', `c${i}.bin`), bytes(1000));
  fs.writeFileSync(path.join(base, 'actions.log'), '');
  await hh.init(seedStore, RETENTION_MS / 86_400_000);
  // The friend gets a read-only share of friend-src/, made by the owner on the NAS.
  const friendShare = await hh.nasPost<{ state: string; result: { shareId: string; secrets: { readOnly: string } | null } }>('/api/requests', { id: `s${SEED}friendshare`, device: 'alpha', action: 'share', path: FRIEND_SRC, args: {}, confirm: true });
  if (friendShare.json.state !== 'done' || !friendShare.json.result.secrets) throw new Error(`could not share ${FRIEND_SRC}: ${JSON.stringify(friendShare.json)}`);
  const shareId = friendShare.json.result.shareId;
  model.shares.set(shareId, { id: shareId, source: FRIEND_SRC, kind: 'folder', active: true });
  await hh.startFriend(friendShare.json.result.secrets.readOnly);
  const world: World = {
    hh,
    model,
    canary: { dir: canaryDir, before: treeShas(canaryDir, false) },
    baseEntries: new Set(['nas', 'alpha', 'beta', 'friend', 'canary', 'actions.log', 'failure.txt', 'ballast', 'beta-api.sock']),
    retentionMs: RETENTION_MS,
    stats,
    friend: { shareId, revoked: false, atRevoke: null },
    known,
  };
  const revokeFriendAt = started + (endAt - started) * (0.5 + rnd() * 0.3);
  await settleAndCheck(world, 'setup');

  while (Date.now() < endAt) {
    phase++;
    step = 0;
    stats.phases++;
    const phaseEnd = Date.now() + phaseMs;
    const faults = armFaults(planFaults(phaseMs));
    while (Date.now() < phaseEnd) {
      step++;
      let r = rnd() * TOTAL_WEIGHT;
      const [, kind, act] = ACTS.find(([w]) => (r -= w) < 0) ?? ACTS[0]!;
      const d = pick(DEVICES)!;
      const writes = kind.startsWith('local-') || kind.startsWith('store-') || kind === 'two-device-edit';
      if ((writes && diskFull) || !(await act(d))) {
        stats.skipped++;
        actions.push(`[${phase}.${step}] (${kind} on ${d}: nothing to do)`);
      }
      await sleep(50 + Math.floor(rnd() * 400));
    }
    faults.stop();
    if (!world.friend.revoked && Date.now() >= revokeFriendAt) await revokeFriend(world);
    await settleAndCheck(world, `phase ${phase}`);
    const el = ((Date.now() - started) / 60_000).toFixed(1);
    process.stdout.write(`soak: phase ${phase} ok at ${el} min: ${stats.actions} actions, ${stats.kills} kills, ${stats.diskFulls} full disks, ${stats.cuts} network cuts, ${stats.requests} requests (${stats.requestsUnknown} with an unknown outcome), ${model.files.size} files in the model, ${hh.selfExits.length} processes exited by themselves\n`);
  }
  await hh.stopAll();
  for (const k of known.values()) process.stdout.write(`soak: KNOWN BUG seen (not fatal): ${k}\n`);
  for (const c of hh.selfExits) process.stdout.write(`soak: a process EXITED BY ITSELF (restarted; every invariant still held): ${c}\n`);
  const summary = { seed: SEED, knownBugs: [...world.known.keys()], selfExits: hh.selfExits.length, minutes: Number(((Date.now() - started) / 60_000).toFixed(1)), ...stats, files: model.files.size, destroyed: model.destroyed.length, shares: model.shares.size };
  process.stdout.write(`soak: PASSED ${JSON.stringify(summary)}\n`);
  if (!opts.keep) {
    // A tmpfs goes with its contents when unmounted; the mount point itself cannot be removed before.
    if (onTmpfs) spawnSync('umount', [base]);
    fs.rmSync(base, { recursive: true, force: true });
  }
}

async function revokeFriend(world: World): Promise<void> {
  await hh.restartAll();
  // Let the friend catch up first, so what it holds at the revoke is the share's content.
  await waitFor('the friend in step before the revoke', async () => (await checkAll(world)).filter((p) => p.startsWith('friend')).length === 0, 120_000, 500).catch(() => undefined);
  world.friend.atRevoke = treeShas(hh.friendDir);
  const r = await hh.nasPost<{ state: string; reason?: string }>('/api/requests', { id: `s${SEED}friendrevoke`, device: 'alpha', action: 'revoke', path: FRIEND_SRC, args: { shareId: world.friend.shareId }, confirm: true });
  record('revoke-friend', `owner revokes the friend's share ${world.friend.shareId}: ${r.json.state}${r.json.reason ? ` (${r.json.reason})` : ''}`);
  if (r.json.state !== 'done') fail([`the owner's revoke of the friend's share failed: ${JSON.stringify(r.json)}`], 'revoke');
  world.friend.revoked = true;
  model.shares.get(world.friend.shareId)!.active = false;
  // Something new in the once-shared folder must not reach the friend.
  const p = `${FRIEND_SRC}/after-revoke-${phase}.bin`;
  const buf = bytes(2000);
  fs.writeFileSync(path.join(storeDir(), p), buf);
  model.setFile(p, sha256(buf));
  record('store-new', `NAS store gets files/${p} after the revoke`);
}

async function settleAndCheck(world: World, where: string): Promise<void> {
  const deadline = Date.now() + Number(opts.settleSeconds) * 1000;
  await hh.restartAll();
  const stuck = await settleRequests(deadline);
  if (stuck.length) fail(stuck, `${where} (settle)`);
  let last: string[] = [];
  const ok = await waitFor(
    'every invariant',
    async () => {
      last = await checkAll(world);
      return last.length === 0;
    },
    Math.max(10_000, deadline - Date.now()),
    1000,
  ).catch(() => false);
  if (!ok) fail(last, `${where} (invariants did not hold within ${opts.settleSeconds} s)`);
  resolveEithers(world);
  model.busy.clear();
}

// The namespace and the veth pair are the machine's, not the roots': always remove them.
process.on('exit', () => netns.link?.destroy());
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    for (const w of ['friend', 'alpha', 'beta', 'nas'] as Who[]) hh.proc(w)?.child.kill('SIGKILL');
    process.exit(130);
  });
process.on('unhandledRejection', (err) => fail([`driver error: ${(err as Error).stack ?? String(err)}`], 'driver'));
// Exit explicitly: beta's API forwarder is a child process that would keep the driver alive
// after PASSED (the 'exit' handler above, which stops it, runs only once the process exits).
main().then(
  () => process.exit(0),
  (err) => fail([`driver error: ${(err as Error).stack ?? String(err)}`], 'driver'),
);
