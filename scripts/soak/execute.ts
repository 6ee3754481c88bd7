import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from '../../test/agent/harness.js';
import type { Driver } from './driver.js';
import type { Faults } from './faults.js';
import type { Device } from './household.js';
import { sha256, shaOf, type PendingRequest } from './model.js';
import { content, isRequest, joinPath, type Op, type RequestOp } from './ops.js';
import { postRequest } from './requests.js';

/**
 * The one place an op acts on the household and the model. It re-checks on disk what the op needs
 * (the chooser did, but a replayed op may have lost its maker to the shrinker): an op that cannot
 * run returns a reason and changes nothing. Catalogue requests are always posted, whatever the
 * model thinks: the NAS refuses what it cannot do, and the model changes only on 'done'.
 */
export interface Hooks {
  phaseEnd(op: Op): Promise<void>;
  revokeFriend(op: Op & { kind: 'revoke-friend' }): Promise<void>;
}

const other = (d: Device): Device => (d === 'alpha' ? 'beta' : 'alpha');

export function runCli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
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

/** Run op: null when it ran (and was appended to ops.jsonl), else why it could not. */
export async function runOp(drv: Driver, faults: Faults, hooks: Hooks, op: Op): Promise<string | null> {
  // A failure being reported (or shrunk) owns the household now: park whatever was still running.
  if (drv.halted) return new Promise<never>(() => undefined);
  try {
    return await execute(drv, faults, hooks, op);
  } catch (err) {
    if (!drv.replaying) throw err;
    return `the driver could not run it: ${(err as Error).message.split('\n')[0]}`;
  }
}

async function execute(drv: Driver, faults: Faults, hooks: Hooks, op: Op): Promise<string | null> {
  const { model, hh } = drv;
  const storeFile = (p: string) => path.join(hh.nasRoot, 'files', p);
  const devFile = (d: Device, p: string) => path.join(hh.agentRoot(d), 'files', p);
  if (isRequest(op)) return request(drv, op);
  switch (op.kind) {
    case 'household':
      return null;
    case 'phase-end':
      drv.logOp(op);
      await hooks.phaseEnd(op);
      return null;
    case 'revoke-friend':
      drv.logOp(op);
      await hooks.revokeFriend(op);
      return null;
    case 'fault':
      if (!faults.fire(op.who, op.downMs)) return `a ${op.who} fault cannot start now`;
      drv.logOp(op);
      return null;
    case 'replay': {
      // Only a request this household saw finish can be delivered "again".
      const past = drv.finished.find((r) => r.id === op.id && r.device === op.device);
      if (!past) return `request ${op.id} did not finish in this run`;
      drv.logOp(op);
      drv.stats.replays++;
      try {
        await hh.agentRequest(op.device, past);
      } catch {
        /* a replay that cannot even be posted proves nothing, and harms nothing */
      }
      drv.record('replay', `${op.device} replays ${past.action} ${past.path} id=${past.id}`);
      return null;
    }
    case 'dedupe-run': {
      drv.logOp(op);
      const r = await runCli(['dedupe', '--root', hh.nasRoot, '--json']);
      drv.record('dedupe-run', `burrow dedupe -> exit ${r.code}${r.code ? `: ${r.err.trim().split('\n').pop()}` : ''}`);
      return null;
    }
    case 'balance-run': {
      drv.logOp(op);
      const r = await runCli(['balance', '--root', hh.nasRoot, '--json']);
      // No device has a limit here, so an eviction is a finding (15 was one): name it in the log.
      let evicted = '';
      try {
        const rep = JSON.parse(r.out) as { devices: Array<{ device: string; evicted: Array<{ path: string }> }> };
        evicted = rep.devices.filter((d) => d.evicted.length).map((d) => `; evicted from ${d.device}: ${d.evicted.map((e) => e.path).join(', ')}`).join('');
      } catch {
        /* not JSON: the exit code says what happened */
      }
      drv.record('balance-run', `burrow balance -> exit ${r.code}${r.code ? `: ${r.err.trim().split('\n').pop()}` : ''}${evicted}`);
      return null;
    }
  }
  // Every other op writes: it waits while the disk is full (the chooser does not even pick one then).
  await faults.room();
  switch (op.kind) {
    case 'local-new': {
      const buf = content(op.size, op.content);
      drv.logOp(op);
      fs.mkdirSync(path.dirname(devFile(op.device, op.path)), { recursive: true });
      fs.writeFileSync(devFile(op.device, op.path), buf);
      model.setFile(op.path, sha256(buf));
      model.wants.get(op.device)!.add(op.path);
      model.busy.add(op.path);
      drv.record('local-new', `${op.device} writes files/${op.path} (${buf.length} B)`);
      return null;
    }
    case 'local-edit': {
      if (!fs.existsSync(devFile(op.device, op.path))) return `${op.device} has no files/${op.path}`;
      const buf = content(op.size, op.content);
      drv.logOp(op);
      fs.writeFileSync(devFile(op.device, op.path), buf);
      model.setFile(op.path, sha256(buf));
      model.busy.add(op.path);
      drv.record('local-edit', `${op.device} edits files/${op.path} (${buf.length} B)`);
      return null;
    }
    case 'local-rename': {
      const s = shaOf(devFile(op.device, op.path));
      if (!s) return `${op.device} has no files/${op.path}`;
      drv.logOp(op);
      fs.renameSync(devFile(op.device, op.path), devFile(op.device, op.to));
      model.wants.get(op.device)!.delete(op.path);
      model.wants.get(op.device)!.add(op.to);
      model.setFile(op.to, s);
      model.busy.add(op.path).add(op.to);
      drv.renamed.add(op.to);
      drv.record('local-rename', `${op.device} renames files/${op.path} -> ${op.to}`);
      return null;
    }
    case 'local-delete': {
      if (!fs.existsSync(devFile(op.device, op.path))) return `${op.device} has no files/${op.path}`;
      drv.logOp(op);
      fs.rmSync(devFile(op.device, op.path));
      model.wants.get(op.device)!.delete(op.path);
      model.busy.add(op.path);
      drv.record('local-delete', `${op.device} deletes files/${op.path}`);
      return null;
    }
    case 'two-device-edit': {
      if (!fs.existsSync(devFile('alpha', op.path)) || !fs.existsSync(devFile('beta', op.path))) return `alpha and beta do not both hold files/${op.path}`;
      const a = content(op.size, op.content);
      const b = content(op.sizeB, op.contentB);
      drv.logOp(op);
      fs.writeFileSync(devFile('alpha', op.path), a);
      fs.writeFileSync(devFile('beta', op.path), b);
      model.setFile(op.path, sha256(a), sha256(b));
      model.twoDeviceEdits.push({ path: op.path, shas: [sha256(a), sha256(b)] });
      model.busy.add(op.path);
      drv.record('two-device-edit', `alpha and beta both edit files/${op.path} (either version may win; a conflict copy may appear)`);
      return null;
    }
    case 'store-new': {
      if (!fs.existsSync(path.dirname(storeFile(op.path)))) return `the store has no folder for files/${op.path}`;
      const buf = content(op.size, op.content);
      drv.logOp(op);
      fs.writeFileSync(storeFile(op.path), buf);
      model.setFile(op.path, sha256(buf));
      model.busy.add(op.path);
      drv.record('store-new', `NAS store gets files/${op.path} (${buf.length} B)`);
      return null;
    }
    case 'store-edit': {
      const abs = storeFile(op.path);
      const st = fs.statSync(abs, { throwIfNoEntry: false });
      if (!st) return `the store has no files/${op.path}`;
      const buf = content(op.size, op.content);
      drv.logOp(op);
      const before = { ino: st.ino, sha: shaOf(abs) };
      // Dedupe hard-links equal files, so an in-place edit changes every path of that inode. A copy
      // with the same content that dedupe might link at this very moment may or may not change: "either".
      const mates = [...model.files].filter(([q, f]) => q !== op.path && before.sha !== null && f.shas.size === 1 && f.shas.has(before.sha)).map(([q]) => q);
      const linked = new Set(mates.filter((q) => fs.statSync(storeFile(q), { throwIfNoEntry: false })?.ino === before.ino));
      fs.writeFileSync(abs, buf); // in place, as a user over SMB would
      const nowLinked = new Set(mates.filter((q) => fs.statSync(storeFile(q), { throwIfNoEntry: false })?.ino === before.ino));
      model.setFile(op.path, sha256(buf));
      model.busy.add(op.path);
      for (const q of mates) {
        model.busy.add(q);
        if (linked.has(q) && nowLinked.has(q)) model.setFile(q, sha256(buf));
        else model.setFile(q, before.sha!, sha256(buf));
      }
      drv.record('store-edit', `NAS store edits files/${op.path} in place (${buf.length} B)`);
      return null;
    }
    case 'store-dup': {
      const s = shaOf(storeFile(op.from));
      if (!s || !model.files.get(op.from)?.shas.has(s)) return `files/${op.from} is not in the store as the model has it`;
      if (!fs.existsSync(path.dirname(storeFile(op.path)))) return `the store has no folder for files/${op.path}`;
      drv.logOp(op);
      fs.copyFileSync(storeFile(op.from), storeFile(op.path));
      model.setFile(op.path, s);
      model.busy.add(op.path);
      drv.record('store-dup', `NAS store copies files/${op.from} to files/${op.path} (a dedupe candidate)`);
      return null;
    }
  }
  return `unknown op ${JSON.stringify(op)}`;
}

/** A catalogue request, and what its 'done' means for the model (read from the model when it runs). */
async function request(drv: Driver, op: Op & RequestOp): Promise<string | null> {
  const { model } = drv;
  const p = op.path;
  const d = op.device;
  let args = op.args;
  let apply: PendingRequest['apply'];
  let touches = [p];
  switch (op.kind) {
    case 'get':
      apply = () => {
        model.wants.get(d)!.add(p);
        if (drv.plantBug && drv.renamed.has(p)) plant(drv, p);
      };
      break;
    case 'delete':
      apply = () => model.wants.get(d)!.delete(p);
      break;
    case 'destroy': {
      const shas = model.files.get(p)?.shas ?? new Set<string>();
      apply = (o) => {
        model.files.delete(p);
        for (const w of model.wants.values()) w.delete(p);
        model.destroyed.push({ path: p, shas, requestId: o.id });
      };
      break;
    }
    case 'move':
      apply = () => {
        model.wants.get(d)!.delete(p);
        model.wants.get(other(d))!.add(p);
      };
      break;
    case 'share':
    case 'share-folder': {
      const kind = op.kind === 'share' ? 'file' : 'folder';
      apply = (o) => {
        const id = String(o.result?.shareId ?? '');
        if (id) model.shares.set(id, { id, source: p, kind, active: true });
      };
      break;
    }
    case 'revoke':
    case 'revoke-share': {
      // Share ids are the NAS's: a replay's share of this path has a new one.
      const kind = op.kind === 'revoke' ? 'file' : 'folder';
      const s = [...model.shares.values()].find((x) => x.active && x.kind === kind && x.source === p);
      if (!s) return `no active ${kind} share of ${p} in this run`;
      args = { ...op.args, shareId: s.id };
      apply = (o) => {
        s.active = false;
        model.revokeTorrents(s.source);
        // By design the links move to a new share, <id>-revoked-<date>, under new secrets.
        const to = String(o.result?.revokedTo ?? '');
        if (kind === 'folder' && to) model.shares.set(to, { id: to, source: s.source, kind: 'folder', active: true });
      };
      break;
    }
    case 'mkdir': {
      const name = String(op.args.name);
      touches = [joinPath(p, name)];
      apply = () => {
        model.dirs.add(joinPath(p, name));
        model.mkdirs.push({ parent: p, name });
      };
      break;
    }
    case 'destroy-folder': {
      const under = model.filesUnder(p).map((f) => ({ p: f, shas: model.files.get(f)!.shas }));
      apply = (o) => {
        // Folders made inside it go too (whether the folder itself stays is not checked).
        model.mkdirs = model.mkdirs.filter((m) => {
          const full = joinPath(m.parent, m.name);
          return full !== p && !full.startsWith(`${p}/`);
        });
        for (const x of [...model.dirs]) if (x.startsWith(`${p}/`)) model.dirs.delete(x);
        for (const u of under) {
          model.files.delete(u.p);
          for (const w of model.wants.values()) w.delete(u.p);
          model.destroyed.push({ path: u.p, shas: u.shas, requestId: o.id });
        }
      };
      break;
    }
    case 'torrent':
    case 'torrent-once': {
      const folder = !!op.folder;
      const shas = folder ? null : model.files.get(p)?.shas;
      // Only a file whose content is settled has one sha the web seed must serve.
      const sha = shas && shas.size === 1 ? [...shas][0]! : null;
      const kind = op.kind === 'torrent' ? 'public' : 'once';
      apply = (o) => {
        const r = o.result ?? {};
        model.torrents.push({ id: String(r.torrentId ?? ''), path: p, kind, folder, sha, webSeed: String(r.webSeed ?? ''), requestId: o.id });
      };
      break;
    }
  }
  drv.logOp(op);
  await postRequest(drv, op, args, touches, apply);
  return null;
}

/**
 * --plant-bug: a deterministic "product bug" made by the driver, to test the shrinker: the store
 * loses a file that was renamed on a device and then fetched. The settle deletes it again before
 * every check, so no resync can hide it.
 */
function plant(drv: Driver, p: string): void {
  drv.planted.add(p);
  drv.note(`PLANTED BUG: the driver deletes files/${p} from the NAS store`);
  fs.rmSync(path.join(drv.hh.nasRoot, 'files', p), { force: true });
}
