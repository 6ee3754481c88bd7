import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, sameBytes, startNas, stopProc, tempRoot, type NasHandle } from '../agent/harness.js';
import { invite, join, nasList, prepareMember, storeFiles, waitFor } from './harness.js';

/**
 * Members on 127.0.0.1 whose zones come from `cluster.zone` (the config's way of naming an ISP).
 * Network namespaces are not needed for what this file checks: the zone rule, a full disk, and
 * kill -9 of a member in the middle of replication.
 */
const procs: NasHandle[] = [];
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
      return l.members.length === 3 && l.members.every((m) => m.heldFiles !== null) && l.members.find((m) => m.zone === 'isp-b')?.diskFull ? l : null;
    }, 40_000, 250);
    expect(v.zones).toEqual(['isp-a', 'isp-b']);
    expect(v.requiredZones).toBe(2);
    // B is full: it holds nothing, so only zone isp-a (A and C, one zone) holds the store.
    expect(fs.existsSync(path.join(b.root, 'files', 'first.bin'))).toBe(false);
    expect(v.zonesHoldingAll).toEqual(['isp-a']);
    expect(v.warnings.join('\n')).toMatch(/held in 1 zone\(s\) \(isp-a\), fewer than 2/);
    expect(v.warnings.join('\n')).toMatch(/full disk and takes no new files/);
    for (const p of procs.splice(0)) await stopProc(p);
  }, 240_000);

  it('kill -9 of a member in the middle of replication, then restart: nothing lost, nothing duplicated', async () => {
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
  }, 240_000);
});
