/**
 * npm run soak -- --minutes N --seed S [--phase-seconds 40] [--keep] [--shrink-minutes 20]
 * npm run soak -- --replay <ops.jsonl> [--seed S]
 *
 * A chaos soak (issue 17): a NAS, two device agents and a friend's bare `burrow sync` as real
 * processes on 127.0.0.1; a seeded driver does catalogue actions, local edits on devices, store
 * edits on the NAS, dedupe and balance runs, and kill -9 of any process at any moment. After every
 * phase it stops the faults, restarts what is dead, settles, and checks the invariants against its
 * model (scripts/soak/checks.ts).
 *
 * Every step is an op (scripts/soak/ops.ts): chosen from the seed and the model (choose.ts), run by
 * one executor (execute.ts), appended to <roots>/ops.jsonl. The choices are reproducible from the
 * seed; the timing of the processes is not, so a failure is reproduced by replaying ops, not by
 * rerunning the seed: on a failure the driver prints the seed, phase, step and action list, keeps
 * the roots, then shrinks the ops by replaying them on fresh households (shrink.ts) within
 * --shrink-minutes, and prints the smallest list that failed again and the command to replay it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { prng } from '../server/src/util/prng.js';
import { tempRoot, waitFor } from '../test/agent/harness.js';
import { checkAll, resolveEithers, type World } from './soak/checks.js';
import { Chooser, FRIEND_SRC } from './soak/choose.js';
import { Driver } from './soak/driver.js';
import { runOp, type Hooks } from './soak/execute.js';
import { Faults } from './soak/faults.js';
import { CUT_DEVICE, Household, type Who } from './soak/household.js';
import { Model, sha256, treeShas } from './soak/model.js';
import { NetnsLink } from './soak/netns-link.js';
import { content, type Op, type OpBody } from './soak/ops.js';
import { readOps, replay } from './soak/replay.js';
import { settleRequests } from './soak/requests.js';
import { abortTrial, namedPaths, shrink } from './soak/shrink.js';

const opts = new Command('soak')
  .option('--minutes <n>', 'how long to run', '5')
  .option('--seed <n>', 'PRNG seed (default: the time; with --replay: the seed in the file)')
  .option('--phase-seconds <n>', 'length of one phase of actions and faults', '40')
  .option('--settle-seconds <n>', 'how long the household may take to converge after a phase', '180')
  .option('--tmpfs-mb <n>', 'put every root on a tmpfs of this size, so a full disk can be injected (0 = no tmpfs, no full-disk faults)', '256')
  .option('--trash-retention-seconds <n>', 'trash.retentionDays of the NAS, in seconds (short, so items outlive it during the run)', '240')
  .option('--no-netns', 'do not put beta in a network namespace (no network cuts)')
  .option('--keep', 'keep the roots even when every invariant holds')
  .option('--replay <file>', 'run the ops of an ops.jsonl (or repro.jsonl) on a fresh household instead of choosing them')
  .option('--shrink-minutes <n>', 'on a failure, shrink the ops by replaying them for up to this long (0 = do not shrink)', '20')
  // The shrinker's self-test: the driver itself loses files renamed on a device and then fetched.
  .addOption(new Option('--plant-bug').hideHelp())
  // The shrinker gives each trial a roots folder it knows.
  .addOption(new Option('--roots <dir>').hideHelp())
  .parse(process.argv)
  .opts<{ minutes: string; seed?: string; phaseSeconds: string; settleSeconds: string; tmpfsMb: string; trashRetentionSeconds: string; netns: boolean; keep?: boolean; replay?: string; shrinkMinutes: string; plantBug?: boolean; roots?: string }>();

const replayed = opts.replay ? readOps(opts.replay) : null;
const SEED = Number(opts.seed ?? replayed?.seed ?? Date.now() % 1_000_000);
// On a loaded machine a start can take more than the tests' 30 s: that is not what the soak looks for.
process.env.BURROW_START_TIMEOUT_MS ??= '120000';
/** Setup (canary, seed store) draws first, so a replay of the same seed builds the same household. */
const rnd = prng(SEED);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bytes = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
};

const base = opts.roots ? (fs.mkdirSync(opts.roots, { recursive: true }), opts.roots) : tempRoot('burrow-soak-');
/** Whether base is a small tmpfs of its own (mounting needs root); only then is a full disk injected. */
const onTmpfs = Number(opts.tmpfsMb) > 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${Number(opts.tmpfsMb)}m`, 'tmpfs', base]).status === 0;
/** beta's own network namespace behind a veth pair, so the NAS link can be cut (needs root). */
const netns = opts.netns ? NetnsLink.create() : { link: null, why: '--no-netns was given' };
const hh = new Household(base, netns.link);
const RETENTION_MS = Number(opts.trashRetentionSeconds) * 1000;
const model = new Model();
const drv = new Driver(SEED, base, hh, model, !!replayed, !!opts.plantBug);
const { stats, actions } = drv;
const faults = new Faults(drv, onTmpfs, netns.link);
/** Known product bugs seen so far (reported, not fatal): see SOAK.md. */
const known = new Map<string, string>();
let world: World;

const hooks: Hooks = {
  phaseEnd: async (op) => {
    await faults.end();
    await settleAndCheck(world, `phase ${op.phase}`);
    stats.phases = Math.max(stats.phases, op.phase);
    const el = ((Date.now() - started) / 60_000).toFixed(1);
    process.stdout.write(`soak: phase ${op.phase} ok at ${el} min: ${stats.actions} actions, ${stats.kills} kills, ${stats.diskFulls} full disks, ${stats.cuts} network cuts, ${stats.requests} requests (${stats.requestsUnknown} with an unknown outcome), ${model.files.size} files in the model, ${hh.selfExits.length} processes exited by themselves\n`);
  },
  revokeFriend: async (op) => {
    await faults.end();
    await revokeFriend(world, op.content);
  },
};
const run = (body: OpBody): Promise<string | null> => runOp(drv, faults, hooks, { ...body, phase: drv.phase, step: drv.step, at: Date.now() - drv.phaseStart } as Op);

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
 * faults: the first cut of a reproduction, as a person reads it. The shrinker starts from the same
 * cut of the ops (plus the ops that made the files and folders those need), replays it on a fresh
 * household and, if it fails again, cuts it down by ddmin (scripts/soak/shrink.ts).
 */
function reducedActions(named: Set<string>): string[] {
  if (named.size === 0) return [];
  const touches = (a: string): boolean => [...named].some((n) => a.includes(n) || n.split('/').some((_, i, parts) => i > 0 && a.includes(`"${parts.slice(0, i).join('/')}"`)));
  const reduced = actions.filter((a) => a.includes('FAULT') || touches(a));
  return [`actions on ${[...named].join(', ')} and every fault (${reduced.length} of ${actions.length}; a first cut of a reproduction${replayed ? '' : ', replayed below unless --shrink-minutes 0'}):`, ...reduced.map((a) => `  ${a}`)];
}

/** The options a replay of this run's ops needs to build the same household. */
function replayArgs(): string[] {
  return ['--phase-seconds', opts.phaseSeconds, '--settle-seconds', opts.settleSeconds, '--tmpfs-mb', opts.tmpfsMb, '--trash-retention-seconds', opts.trashRetentionSeconds, ...(opts.netns ? [] : ['--no-netns']), ...(opts.plantBug ? ['--plant-bug'] : [])];
}

let failing = false;
async function fail(problems: string[], where: string): Promise<never> {
  // One report: whatever else goes wrong after the first failure (a parked step, a late timer) is not it.
  if (failing) return new Promise<never>(() => undefined);
  failing = true;
  drv.halted = true;
  hh.frozen = true;
  faults.stop();
  const reports = takeReports();
  for (const w of ['friend', 'alpha', 'beta', 'nas'] as Who[]) hh.proc(w)?.child.kill('SIGKILL');
  const named = namedPaths(problems);
  const out = [
    '',
    `SOAK FAILED at ${where} (seed ${SEED}, phase ${drv.phase}, step ${drv.step})${replayed ? ` replaying ${opts.replay}` : ''}`,
    ...problems.slice(0, 60).map((p) => `  - ${p}`),
    problems.length > 60 ? `  … ${problems.length - 60} more` : '',
    ...[...known.values()].map((k) => `known bug also seen (not fatal): ${k}`),
    `faults and restarts:`,
    ...hh.log.map((l) => `  ${l}`),
    `actions (${actions.length}; also in ${path.join(base, 'actions.log')}, the ops in ${path.join(base, 'ops.jsonl')}):`,
    ...actions.slice(-150).map((a) => `  ${a}`),
    ...reducedActions(named),
    `roots kept for inspection: ${base}${onTmpfs ? ` (a tmpfs: umount ${base} when done)` : ''}`,
    ...(reports.length ? [`diagnostic reports of the processes still running: ${reports.join(' ')}`] : []),
    replayed ? `replay: npm run soak -- --replay ${opts.replay} --seed ${SEED} ${replayArgs().join(' ')}` : `rerun: npm run soak -- --minutes ${opts.minutes} --seed ${SEED} --phase-seconds ${opts.phaseSeconds}`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  // Written before the shrink starts, so a shrink cut short loses nothing of the failure.
  fs.writeFileSync(path.join(base, 'failure.txt'), out.join('\n') + '\n');
  fs.writeFileSync(path.join(base, 'failure.json'), JSON.stringify({ seed: SEED, where, phase: drv.phase, step: drv.step, problems, named: [...named] }) + '\n');
  const minutes = Number(opts.shrinkMinutes);
  if (!replayed && minutes > 0 && named.size > 0 && drv.ops.length > 0) {
    const say = (line: string) => {
      process.stdout.write(`${line}\n`);
      fs.appendFileSync(path.join(base, 'failure.txt'), `${line}\n`);
    };
    try {
      await shrink({ base, seed: SEED, args: replayArgs(), named, budgetMs: minutes * 60_000, say }, drv.ops);
    } catch (err) {
      say(`shrink: stopped by an error of its own: ${(err as Error).stack ?? String(err)}`);
    }
  } else if (!replayed && minutes > 0) process.stdout.write(`shrink: not tried (${named.size ? 'no ops were run' : 'the problems name no path'})\n`);
  return process.exit(1);
}

const started = Date.now();

async function main(): Promise<void> {
  const endAt = started + Number(opts.minutes) * 60_000;
  const phaseMs = Number(opts.phaseSeconds) * 1000;
  process.stdout.write(`soak: seed ${SEED}, ${replayed ? `replaying ${replayed.ops.length} ops of ${opts.replay}` : `${opts.minutes} min`}, roots in ${base}\n`);
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
  fs.writeFileSync(path.join(base, 'ops.jsonl'), '');
  drv.logOp({ kind: 'household', seed: SEED, phase: 0, step: 0, at: 0 });
  await hh.init(seedStore, RETENTION_MS / 86_400_000);
  // The friend gets a read-only share of friend-src/, made by the owner on the NAS.
  const friendShare = await hh.nasPost<{ state: string; result: { shareId: string; secrets: { readOnly: string } | null } }>('/api/requests', { id: `s${SEED}friendshare`, device: 'alpha', action: 'share', path: FRIEND_SRC, args: {}, confirm: true });
  if (friendShare.json.state !== 'done' || !friendShare.json.result.secrets) throw new Error(`could not share ${FRIEND_SRC}: ${JSON.stringify(friendShare.json)}`);
  const shareId = friendShare.json.result.shareId;
  model.shares.set(shareId, { id: shareId, source: FRIEND_SRC, kind: 'folder', active: true });
  await hh.startFriend(friendShare.json.result.secrets.readOnly);
  world = {
    hh,
    model,
    canary: { dir: canaryDir, before: treeShas(canaryDir, false) },
    baseEntries: new Set(['nas', 'alpha', 'beta', 'friend', 'canary', 'actions.log', 'ops.jsonl', 'failure.txt', 'failure.json', 'ballast', 'beta-api.sock']),
    retentionMs: RETENTION_MS,
    stats,
    friend: { shareId, revoked: false, atRevoke: null },
    known,
  };
  const revokeFriendAt = started + (endAt - started) * (0.5 + rnd() * 0.3);
  await settleAndCheck(world, 'setup');

  if (replayed) {
    await replay(drv, replayed.ops, (op) => runOp(drv, faults, hooks, op), (line) => process.stdout.write(`${line}\n`));
  } else {
    const chooser = new Chooser(drv, rnd);
    while (Date.now() < endAt) {
      drv.phase++;
      drv.step = 0;
      drv.phaseStart = Date.now();
      const phaseEnd = drv.phaseStart + phaseMs;
      const timers = chooser.planFaults(phaseMs, faults.kinds()).map((f) => setTimeout(() => void run({ kind: 'fault', who: f.who, downMs: f.downMs }), f.at));
      while (Date.now() < phaseEnd) {
        drv.step++;
        const { kind, device, choose } = chooser.next();
        const writes = kind.startsWith('local-') || kind.startsWith('store-') || kind === 'two-device-edit';
        const body = writes && faults.diskFull ? null : choose();
        const why = body ? await run(body) : 'nothing to do';
        if (why) {
          stats.skipped++;
          drv.note(`(${kind} on ${device}: ${why})`);
        }
        await sleep(chooser.pause());
      }
      for (const t of timers) clearTimeout(t);
      if (!world.friend.revoked && Date.now() >= revokeFriendAt) await run({ kind: 'revoke-friend', content: chooser.friendRevokeContent() });
      await run({ kind: 'phase-end' });
    }
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

async function revokeFriend(world: World, contentSeed: number): Promise<void> {
  await hh.restartAll();
  // Let the friend catch up first, so what it holds at the revoke is the share's content.
  await waitFor('the friend in step before the revoke', async () => (await checkAll(world)).filter((p) => p.startsWith('friend')).length === 0, 120_000, 500).catch(() => undefined);
  world.friend.atRevoke = treeShas(hh.friendDir);
  const r = await hh.nasPost<{ state: string; reason?: string }>('/api/requests', { id: `s${SEED}friendrevoke`, device: 'alpha', action: 'revoke', path: FRIEND_SRC, args: { shareId: world.friend.shareId }, confirm: true });
  drv.record('revoke-friend', `owner revokes the friend's share ${world.friend.shareId}: ${r.json.state}${r.json.reason ? ` (${r.json.reason})` : ''}`);
  if (r.json.state !== 'done') await fail([`the owner's revoke of the friend's share failed: ${JSON.stringify(r.json)}`], 'revoke');
  world.friend.revoked = true;
  model.shares.get(world.friend.shareId)!.active = false;
  // Something new in the once-shared folder must not reach the friend.
  const p = `${FRIEND_SRC}/after-revoke-${drv.phase}.bin`;
  const buf = content(2000, contentSeed);
  fs.writeFileSync(path.join(hh.nasRoot, 'files', p), buf);
  model.setFile(p, sha256(buf));
  drv.record('store-new', `NAS store gets files/${p} after the revoke`);
}

async function settleAndCheck(world: World, where: string): Promise<void> {
  const deadline = Date.now() + Number(opts.settleSeconds) * 1000;
  await hh.restartAll();
  const stuck = await settleRequests(drv, deadline);
  if (stuck.length) await fail(stuck, `${where} (settle)`);
  let last: string[] = [];
  const ok = await waitFor(
    'every invariant',
    async () => {
      // --plant-bug: the planted "bug" strikes again before every look, so no resync can hide it.
      for (const p of drv.planted) fs.rmSync(path.join(hh.nasRoot, 'files', p), { force: true });
      last = await checkAll(world);
      return last.length === 0;
    },
    Math.max(10_000, deadline - Date.now()),
    1000,
  ).catch(() => false);
  if (!ok) await fail(last, `${where} (invariants did not hold within ${opts.settleSeconds} s)`);
  resolveEithers(world);
  model.busy.clear();
  model.twoDeviceEdits = [];
}

// The namespace and the veth pair are the machine's, not the roots': always remove them.
process.on('exit', () => netns.link?.destroy());
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    abortTrial();
    for (const w of ['friend', 'alpha', 'beta', 'nas'] as Who[]) hh.proc(w)?.child.kill('SIGKILL');
    process.exit(130);
  });
process.on('unhandledRejection', (err) => void fail([`driver error: ${(err as Error).stack ?? String(err)}`], 'driver'));
// Exit explicitly: beta's API forwarder is a child process that would keep the driver alive
// after PASSED (the 'exit' handler above, which stops it, runs only once the process exits).
main().then(
  () => process.exit(0),
  (err) => fail([`driver error: ${(err as Error).stack ?? String(err)}`], 'driver'),
);
