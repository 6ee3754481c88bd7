import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, freePort, sameBytes, startNas, stopProc, tempRoot, type NasHandle } from '../agent/harness.js';
import { invite, join, nasList, prepareMember, storeFiles, waitFor } from './harness.js';

/**
 * Members on 127.0.0.1 whose zones come from `cluster.zone` (the config's way of naming an ISP).
 * Network namespaces are not needed for what this file checks: the zone rule, a full disk, and
 * kill -9 of a member in the middle of replication.
 */
const procs: NasHandle[] = [];
// The members keep a removed member's links this long (so a running one reads its removal); 30 s by default.
process.env.BURROW_REMOVAL_GRACE_MS = '8000';
// The zones are worked out every 10 min by default (and again within 30 s of a change of the members).
process.env.BURROW_PLACEMENT_EVERY_MS = '10000';
let base = '';
afterAll(async () => {
  for (const p of procs) await stopProc(p);
  if (base && !process.env.BURROW_KEEP_TEST_ROOT) fs.rmSync(base, { recursive: true, force: true });
});

async function member(name: string, zone: string, extra: (cfg: string) => string = (c) => c): Promise<{ root: string; port: number }> {
  const root = path.join(base, name);
  const port = await freePort();
  prepareMember(root, { port, publicHost: '127.0.0.1', zone });
  const cfg = path.join(root, '.burrow', 'config.yaml');
  fs.writeFileSync(cfg, extra(fs.readFileSync(cfg, 'utf8').replace(/^( {2}host:) 0\.0\.0\.0$/m, '$1 127.0.0.1')));
  return { root, port };
}

describe('several NAS: zones, a full disk, kill -9', () => {
  it('a second member in zone A does not count toward the zone rule; a full member in zone B takes no new files and says so', async () => {
    base = tempRoot('burrow-multinas-zones-');
    const a = await member('a', 'isp-a');
    const c = await member('c', 'isp-a');
    const b = await member('b', 'isp-b', (cfg) => cfg.replace(/^( {2}minFreeMb:) 0$/m, '$1 1000000000'));
    const inv = invite(a.root);
    join(c.root, inv);
    join(b.root, inv);
    fs.writeFileSync(path.join(a.root, 'files', 'first.bin'), crypto.randomBytes(100_000));
    for (const m of [a, c, b]) procs.push(await startNas(m.root, { syncPort: m.port }));
    await waitFor('first.bin on C', () => sameBytes(path.join(a.root, 'files', 'first.bin'), path.join(c.root, 'files', 'first.bin')), 40_000, 100);
    const v = await waitFor('three members with what they hold', () => {
      const l = nasList(a.root);
      // The placement is worked out before the members are listed: B may arrive in between.
      return l.members.length === 3 && l.members.every((m) => m.heldFiles !== null) && l.members.find((m) => m.zone === 'isp-b')?.diskFull && l.placement?.required === 2 ? l : null;
    }, 40_000, 250);
    expect(v.zones).toEqual(['isp-a', 'isp-b']);
    expect(v.requiredZones).toBe(2);
    // B is full: it holds nothing, so only zone isp-a (A and C, one zone) holds the store.
    expect(fs.existsSync(path.join(b.root, 'files', 'first.bin'))).toBe(false);
    expect(v.zonesHoldingAll).toEqual(['isp-a']);
    // Per file: first.bin lives in zone isp-a only (A and C); files/ and docs/ say which zones hold them.
    expect(v.placement).toMatchObject({ required: 2, files: 1, under: 1, samples: ['first.bin'] });
    expect(v.placement!.folders.find((f) => f.path === '')).toMatchObject({ files: 1, zones: ['isp-a'], under: 1 });
    expect(v.warnings.join('\n')).toMatch(/1 of 1 files are kept in fewer than 2 zones \(e\.g\. "first\.bin"\)/);
    expect(v.warnings.join('\n')).toMatch(/full disk and takes no new files/);
    // The running member works it out too (here every 10 s) and the catalogue shows it.
    const summaryJs = path.join(a.root, 'catalogue', 'data', 'summary.js');
    await waitFor('the catalogue says which zones hold the store', () => fs.readFileSync(summaryJs, 'utf8').includes('"zones":{"required":2,"under":1,"samples":["first.bin"]'), 90_000, 300);

    // Removing a member never loses a file only it holds. C goes down; A gets a new file that
    // full B does not take: from B, A is then the only holder of docs/second.bin.
    const C = procs[1]!;
    const ids = new Map(v.members.map((m) => [m.zone === 'isp-b' ? 'b' : m.self ? 'a' : 'c', m.id]));
    await stopProc(C, 'SIGKILL');
    fs.mkdirSync(path.join(a.root, 'files', 'docs'));
    fs.writeFileSync(path.join(a.root, 'files', 'docs', 'second.bin'), crypto.randomBytes(50_000));
    const dry = await waitFor('B knows A alone holds docs/second.bin', () => {
      const r = cli(['nas', 'remove', ids.get('a')!, '--dry-run', '--json', '--root', b.root]);
      const o = JSON.parse(r.stdout) as { onlyThere: number; examples: Array<string | null> };
      return o.onlyThere >= 1 ? o : null;
    }, 40_000, 300);
    expect(dry.examples).toEqual([null]); // B never had it, so B does not know its name
    const refused = cli(['nas', 'remove', ids.get('a')!, '--root', b.root]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/holds 1 file version\(s\) no other member holds/);
    expect(refused.stderr).toMatch(/--force removes it anyway/);
    expect(nasList(b.root).members).toHaveLength(3); // nothing was removed
    expect(cli(['nas', 'remove', 'c-does-not-exist', '--root', a.root]).stderr).toMatch(/No member "c-does-not-exist"/);
    expect(cli(['nas', 'remove', ids.get('a')!, '--root', a.root]).stderr).toMatch(/a member is removed by another member/);
    // C comes back and catches up; it holds nothing A lacks, so it can be removed, from A, while it runs.
    const C2 = await startNas(c.root, { syncPort: c.port });
    procs.push(C2);
    await waitFor('C gets docs/second.bin', () => sameBytes(path.join(a.root, 'files', 'docs', 'second.bin'), path.join(c.root, 'files', 'docs', 'second.bin')), 40_000, 200);
    const ok = cli(['nas', 'remove', ids.get('c')!, '--json', '--root', a.root]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ removed: ids.get('c'), forced: false, onlyThere: 0 });
    expect(nasList(a.root).members.map((m) => m.id).sort()).toEqual([ids.get('a'), ids.get('b')].sort());
    // C reads its removal from the ledger and steps out; B drops C too; after the grace A no longer syncs with C.
    const log = (root: string) => fs.readFileSync(path.join(root, '.burrow', 'logs', 'burrow.log'), 'utf8');
    await waitFor('C knows it was removed', () => /this member was removed from the group/.test(log(c.root)), 20_000, 200);
    await waitFor('B drops C', () => nasList(b.root).members.length === 2, 40_000, 300);
    await waitFor('A blocks C', () => /member removed from the group; no longer syncing with it/.test(log(a.root)), 20_000, 200);
    fs.writeFileSync(path.join(a.root, 'files', 'docs', 'third.bin'), crypto.randomBytes(20_000));
    await new Promise((res) => setTimeout(res, 6000));
    expect(fs.existsSync(path.join(c.root, 'files', 'docs', 'third.bin'))).toBe(false);
    for (const p of procs.splice(0)) await stopProc(p);
  }, 240_000);

  it('kill -9 of a member in the middle of replication, then restart: nothing lost, nothing duplicated; a member left with old copies can be removed', async () => {
    const a = await member('ka', 'isp-a');
    const b = await member('kb', 'isp-b');
    for (let d = 0; d < 4; d++) {
      fs.mkdirSync(path.join(a.root, 'files', `d${d}`), { recursive: true });
      for (let i = 0; i < 60; i++) fs.writeFileSync(path.join(a.root, 'files', `d${d}`, `f${i}.bin`), crypto.randomBytes(20_000 + i * 100));
    }
    fs.writeFileSync(path.join(a.root, 'files', 'big.bin'), crypto.randomBytes(24 * 1024 * 1024));
    join(b.root, invite(a.root));
    const A = await startNas(a.root, { syncPort: a.port });
    procs.push(A);
    let B = await startNas(b.root, { syncPort: b.port });
    const want = storeFiles(a.root);
    await waitFor('B part-way through', () => {
      const n = storeFiles(b.root).length;
      return n > 5 && n < want.length;
    }, 60_000, 20);
    await stopProc(B, 'SIGKILL');
    B = await startNas(b.root, { syncPort: b.port });
    procs.push(B);
    await waitFor('B holds every file', () => JSON.stringify(storeFiles(b.root)) === JSON.stringify(want), 60_000, 200);
    for (const f of want) expect(sameBytes(path.join(a.root, 'files', f), path.join(b.root, 'files', f)), f).toBe(true);
    // Nothing duplicated on either side (no conflict copies, no extra names).
    expect(storeFiles(a.root)).toEqual(want);

    // B stops; A changes a file B held. B's copy is now an old version: removing B loses nothing.
    const bId = nasList(a.root).members.find((m) => !m.self)!.id;
    await stopProc(B);
    fs.writeFileSync(path.join(a.root, 'files', 'd0', 'f0.bin'), crypto.randomBytes(30_000));
    const l = await waitFor('A sees d0/f0.bin in one zone only', () => {
      const v = nasList(a.root);
      return v.placement && v.placement.under === 1 ? v : null;
    }, 40_000, 300);
    expect(l.placement!.samples).toEqual(['d0/f0.bin']);
    expect(l.placement!.folders.find((f) => f.path === 'd0')).toMatchObject({ files: 60, zones: ['isp-a'], under: 1 });
    expect(l.placement!.folders.find((f) => f.path === 'd1')).toMatchObject({ files: 60, zones: ['isp-a', 'isp-b'], under: 0 });
    const dry = cli(['nas', 'remove', bId, '--dry-run', '--json', '--root', a.root]);
    expect(JSON.parse(dry.stdout)).toMatchObject({ member: bId, onlyThere: 0 });
  }, 240_000);
});
