import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { netnsWorks } from '../helpers/netns.js';
import { addDevice, sameBytes, startAgent, startNas, stopProc, tempRoot, type AgentHandle, type NasHandle } from '../agent/harness.js';
import { Zones, invite, join, ledgerRuns, nasList, prepareMember, requestVia, storeFiles, waitFor } from './harness.js';

const canNetns = netnsWorks('the several-NAS network-namespace test (two members in two zones)');
const tag = crypto.randomBytes(3).toString('hex');
const s = 100 + (parseInt(tag.slice(0, 2), 16) % 100);

let zones: Zones | undefined;
let base = '';
let A: NasHandle | undefined;
let B: NasHandle | undefined;
let agent: AgentHandle | undefined;

afterAll(async () => {
  await stopProc(agent);
  await stopProc(A);
  await stopProc(B);
  zones?.destroy();
  if (base && !process.env.BURROW_KEEP_TEST_ROOT) fs.rmSync(base, { recursive: true, force: true });
});

const rand = (n: number): Buffer => crypto.randomBytes(n);

describe('two NAS in two zones, one device that reaches both', () => {
  (canNetns ? it : it.skip)('replicates files/, fails over to B while A is cut, and A catches up without running anything twice', async () => {
    const t0 = Date.now();
    const mark = (what: string): void => console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
    zones = new Zones(tag, s);
    const za = zones.member(1);
    const zb = zones.member(2);
    base = tempRoot('burrow-multinas-');
    const rootA = path.join(base, 'a');
    const rootB = path.join(base, 'b');
    prepareMember(rootA, { port: 17600, publicHost: za.addr });
    prepareMember(rootB, { port: 17600, publicHost: zb.addr });
    fs.mkdirSync(path.join(rootA, 'files', 'photos'), { recursive: true });
    fs.writeFileSync(path.join(rootA, 'files', 'photos', 'one.jpg'), rand(300_000));
    fs.writeFileSync(path.join(rootA, 'files', 'notes.txt'), 'hello from zone A\n');
    join(rootB, invite(rootA));
    A = await startNas(rootA, { syncPort: 17600, netns: za.ns });
    B = await startNas(rootB, { syncPort: 17600, netns: zb.ns });

    // A file added on A reaches B's files/ with the same bytes.
    await waitFor('photos/one.jpg on B', () => sameBytes(path.join(rootA, 'files', 'photos', 'one.jpg'), path.join(rootB, 'files', 'photos', 'one.jpg')), 40_000, 100);
    mark('photos/one.jpg on B');
    fs.writeFileSync(path.join(rootA, 'files', 'later.bin'), rand(200_000));
    await waitFor('later.bin on B', () => sameBytes(path.join(rootA, 'files', 'later.bin'), path.join(rootB, 'files', 'later.bin')), 40_000, 100);
    mark('later.bin on B');
    const list = await waitFor('both members listed with their zones and holdings', () => {
      const l = nasList(rootA);
      return l.members.length === 2 && l.members.every((m) => m.heldFiles === 3 && m.lastReachableAt !== null) ? l : null;
    }, 40_000, 250);
    expect(list.members.map((m) => m.zone).sort()).toEqual([`10.${s}.1`, `10.${s}.2`]);
    expect(list.requiredZones).toBe(2);
    expect(list.warnings).toEqual([]);

    // The device's join string names both members; it syncs with both.
    const joinString = addDevice(rootA, 'laptop');
    const payload = JSON.parse(Buffer.from(joinString.slice('burrow1:'.length).split('.')[0]!, 'base64url').toString()) as { addresses: string[] };
    expect(payload.addresses.sort()).toEqual([`${za.addr}:17600`, `${zb.addr}:17600`]);
    agent = await startAgent(path.join(base, 'dev'), joinString);
    await waitFor('laptop registered on B through the ledger', () => fs.existsSync(path.join(rootB, 'devices', 'laptop')), 40_000, 100);
    mark('laptop registered on B through the ledger');
    await requestVia(agent.url, agent.token(), { id: 'req-before-cut', device: 'laptop', action: 'get', path: 'notes.txt' });
    await waitFor('notes.txt on the device', () => sameBytes(path.join(agent!.root, 'files', 'notes.txt'), path.join(rootA, 'files', 'notes.txt')), 40_000, 100);
    mark('notes.txt on the device');

    // (Its claim and result must have left the runner before the cut: a request whose claim had
    // not reached the other member when the cut came may run there again; see docs/ARCHITECTURE.md.)
    await waitFor('req-before-cut in both ledgers', () => ledgerRuns(rootA).has('laptop/req-before-cut') && ledgerRuns(rootB).has('laptop/req-before-cut'), 30_000, 100);
    // Cut zone A. The device's [get] is served by B, and its requests still run.
    zones.setLink(za, false);
    const cutAt = Date.now();
    await requestVia(agent.url, agent.token(), { id: 'req-during-cut-1', device: 'laptop', action: 'get', path: 'photos/one.jpg' });
    await waitFor('photos/one.jpg on the device while A is cut', () => sameBytes(path.join(agent!.root, 'files', 'photos', 'one.jpg'), path.join(rootB, 'files', 'photos', 'one.jpg')), 40_000, 100);
    mark('photos/one.jpg on the device while A is cut');
    const failoverMs = Date.now() - cutAt;
    console.log(`zone cut → [get] served by B in ${failoverMs} ms`);
    fs.writeFileSync(path.join(rootB, 'files', 'added-on-b.bin'), rand(150_000));
    await requestVia(agent.url, agent.token(), { id: 'req-during-cut-2', device: 'laptop', action: 'get', path: 'later.bin' });
    await waitFor('later.bin on the device while A is cut', () => sameBytes(path.join(agent!.root, 'files', 'later.bin'), path.join(rootB, 'files', 'later.bin')), 40_000, 100);
    mark('later.bin on the device while A is cut');

    // A comes back: it holds everything B got meanwhile, and runs none of those requests again.
    zones.setLink(za, true);
    await waitFor('added-on-b.bin on A', () => sameBytes(path.join(rootB, 'files', 'added-on-b.bin'), path.join(rootA, 'files', 'added-on-b.bin')), 40_000, 100);
    mark('added-on-b.bin on A');
    await waitFor('the device folder on A caught up', () => fs.existsSync(path.join(rootA, 'devices', 'laptop', 'photos', 'one.jpg')) && fs.existsSync(path.join(rootA, 'devices', 'laptop', 'later.bin')), 40_000, 100);
    expect(storeFiles(rootA)).toEqual(storeFiles(rootB));
    // Every request ran on exactly one member, as both ledgers say.
    await waitFor('both ledgers agree', () => JSON.stringify([...ledgerRuns(rootA)].sort()) === JSON.stringify([...ledgerRuns(rootB)].sort()), 20_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}\nA: ${JSON.stringify([...ledgerRuns(rootA)])}\nB: ${JSON.stringify([...ledgerRuns(rootB)])}`);
    mark('both ledgers agree');
    });
    const runs = ledgerRuns(rootA);
    for (const id of ['req-before-cut', 'req-during-cut-1', 'req-during-cut-2']) expect(runs.get(`laptop/${id}`), id).toHaveLength(1);
    const bId = nasList(rootB).members.find((m) => m.self)!.id;
    expect(runs.get('laptop/req-during-cut-1')).toEqual([`${bId}.json`]);
    expect(runs.get('laptop/req-during-cut-2')).toEqual([`${bId}.json`]);
    // No conflict copies anywhere: nothing was duplicated.
    expect(storeFiles(rootA).filter((f) => f.includes('conflict'))).toEqual([]);
  }, 180_000);
});
