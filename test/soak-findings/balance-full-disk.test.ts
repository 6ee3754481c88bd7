import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBalance } from '../../server/src/jobs/balance.js';
import { cliRefresher } from '../../server/src/jobs/run-jobs.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { SecretsRepo } from '../../server/src/store/secrets-repo.js';
import { jobsRoot, link, put, rescan, type JobsRoot } from '../jobs/fixture.js';

/**
 * Soak finding 15 (seed 505, phase 74): a device's disk was full for a few seconds; its agent
 * reported free = 0 while the NAS already held a file the device had just asked for (it could not
 * land). The balance that ran next capped the device at "what it holds + 0 free", found the new
 * file over that cap and evicted two of the user's older files from the device. The cap now uses
 * the most room the device reported in the day up to its last report, so a moment's full disk
 * evicts nothing, and a disk that stays full for a day still makes the balancer evict.
 */
const KB = 1000;
const HOUR = 3_600_000;
let j: JobsRoot | undefined;
afterEach(() => j?.cleanup());

function alphaWithAPendingGet(): JobsRoot {
  const root = jobsRoot();
  addDevice(root.r, 'alpha', null); // no admin limit: only the device's own room caps it
  for (const [rel, kb] of [['old/made-long-ago.txt', 100], ['old/also-old.txt', 100], ['just-got.bin', 100]] as const) {
    const abs = put(root.r.layout.files, rel, Buffer.alloc(kb * KB, 1));
    link(abs, path.join(root.r.layout.device('alpha'), rel));
  }
  rescan(root);
  return root;
}

const report = (root: JobsRoot, at: number, usedBytes: number, freeBytes: number) =>
  new SecretsRepo(root.r.store.db).saveReport({ device: 'alpha', limit_bytes: null, free_bytes: freeBytes, used_bytes: usedBytes, admin_quota_bytes: null, agent_version: 't' }, at);

const onAlpha = (root: JobsRoot, rel: string) => fs.existsSync(path.join(root.r.layout.device('alpha'), rel));

describe('soak finding 15: a full disk for a moment does not make the balancer evict', () => {
  it('keeps every file when the device reported room earlier in the day', () => {
    j = alphaWithAPendingGet();
    const now = Date.now();
    report(j, now - 3 * HOUR, 200 * KB, 10_000_000 * KB); // plenty of room this morning
    report(j, now, 200 * KB, 0); // full right now: the device holds the two old files, just-got.bin cannot land
    expect(j.r.store.devices.get('alpha')!.effective_quota_bytes).toBe(200 * KB + 10_000_000 * KB);
    const r = runBalance(j.r.store, j.r.layout, { refresh: cliRefresher(j.r.store, j.r.layout) });
    expect(r.devices[0]).toMatchObject({ ok: true, evicted: [] });
    for (const rel of ['old/made-long-ago.txt', 'old/also-old.txt', 'just-got.bin']) expect(onAlpha(j, rel), rel).toBe(true);
  });

  it('still evicts the least used when the disk has stayed full for a day', () => {
    j = alphaWithAPendingGet();
    const now = Date.now();
    report(j, now - 30 * HOUR, 200 * KB, 10_000_000 * KB); // room, but more than a day before the last report
    report(j, now - 20 * HOUR, 200 * KB, 0);
    report(j, now, 200 * KB, 0);
    expect(j.r.store.devices.get('alpha')!.effective_quota_bytes).toBe(200 * KB);
    const r = runBalance(j.r.store, j.r.layout, { refresh: cliRefresher(j.r.store, j.r.layout) });
    expect(r.devices[0]!.ok).toBe(true);
    expect(r.devices[0]!.evicted).toHaveLength(1);
    expect(r.devices[0]!.freedBytes).toBe(100 * KB);
    // The NAS keeps every file.
    for (const rel of ['old/made-long-ago.txt', 'old/also-old.txt', 'just-got.bin']) expect(fs.existsSync(path.join(j.r.layout.files, rel)), rel).toBe(true);
  });

  it("an offline device keeps the room of its last day online, however long ago that was", () => {
    j = alphaWithAPendingGet();
    const lastSeen = Date.now() - 10 * 24 * HOUR;
    report(j, lastSeen - 2 * HOUR, 200 * KB, 10_000_000 * KB);
    report(j, lastSeen, 200 * KB, 0);
    expect(j.r.store.devices.get('alpha')!.effective_quota_bytes).toBe(200 * KB + 10_000_000 * KB);
  });
});
