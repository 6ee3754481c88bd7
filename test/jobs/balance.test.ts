import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeRoom, runBalance } from '../../server/src/jobs/balance.js';
import { cliRefresher } from '../../server/src/jobs/run-jobs.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { burrow } from '../helpers/cli.js';
import { inode, jobsRoot, link, put, rescan, type JobsRoot } from './fixture.js';

const roots: JobsRoot[] = [];
afterEach(() => {
  for (const j of roots.splice(0)) j.cleanup();
});

const KB = 1000;

/** A device "phone" holding links to files of the given sizes (in kB) and mtimes, with a quota in bytes. */
function deviceWith(files: Array<{ path: string; kb: number; mtime?: string; got?: number }>, quotaBytes: number | null): JobsRoot {
  const j = jobsRoot();
  roots.push(j);
  addDevice(j.r, 'phone', null);
  j.r.store.devices.setQuota('phone', quotaBytes);
  for (const f of files) {
    const abs = put(j.r.layout.files, f.path, Buffer.alloc(f.kb * KB, 7), new Date(f.mtime ?? '2024-01-01T00:00:00Z'));
    link(abs, path.join(j.r.layout.device('phone'), f.path));
  }
  rescan(j);
  for (const f of files) if (f.got !== undefined) j.r.store.usage.touch('phone', f.path, f.got, 'got');
  return j;
}

const onDevice = (j: JobsRoot, rel: string) => fs.existsSync(path.join(j.r.layout.device('phone'), rel));

describe('storage balancer', () => {
  it('evicts least recently used first, then oldest, only what is needed, and never files/', () => {
    const j = deviceWith(
      [
        { path: 'music/used-recently.mp3', kb: 100, mtime: '2020-01-01T00:00:00Z', got: 5_000 },
        { path: 'music/never-used-old.mp3', kb: 100, mtime: '2021-01-01T00:00:00Z' },
        { path: 'music/never-used-new.mp3', kb: 100, mtime: '2023-01-01T00:00:00Z' },
        { path: 'docs/used-long-ago.pdf', kb: 100, mtime: '2019-01-01T00:00:00Z', got: 1_000 },
      ],
      400 * KB,
    );
    j.r.store.usage.touch('phone', 'docs/used-long-ago.pdf', 2_000, 'opened');
    const filesInode = inode(path.join(j.r.layout.files, 'music/never-used-old.mp3'));
    const r = makeRoom(j.r.store, j.r.layout, 'phone', 250 * KB, ['incoming.iso'], { refresh: cliRefresher(j.r.store, j.r.layout) });
    expect(r.ok).toBe(true);
    expect(r.neededBytes).toBe(250 * KB);
    expect(r.evicted.map((e) => e.path)).toEqual(['music/never-used-old.mp3', 'music/never-used-new.mp3', 'docs/used-long-ago.pdf']);
    expect(r.freedBytes).toBe(300 * KB);
    expect(onDevice(j, 'music/used-recently.mp3')).toBe(true);
    expect(onDevice(j, 'music/never-used-old.mp3')).toBe(false);
    expect(onDevice(j, 'docs')).toBe(false); // emptied folder removed too
    // The NAS keeps every file; the index no longer counts the evicted ones on the device.
    expect(inode(path.join(j.r.layout.files, 'music/never-used-old.mp3'))).toBe(filesInode);
    expect(fs.statSync(path.join(j.r.layout.files, 'music/never-used-old.mp3')).size).toBe(100 * KB);
    expect(j.r.store.usage.usedBytes('phone')).toBe(100 * KB);
    expect(j.r.store.balanceHistory.history('phone')[0]).toMatchObject({ ok: 1, freed: 300 * KB });
  });

  it('never evicts pinned folders, the file being got, or a device file that is the only copy', () => {
    const j = deviceWith(
      [
        { path: 'pinned/a.bin', kb: 100 },
        { path: 'keep.bin', kb: 100 },
        { path: 'free.bin', kb: 100, mtime: '2025-01-01T00:00:00Z' },
      ],
      350 * KB,
    );
    put(j.r.layout.device('phone'), 'sent-by-phone.bin', Buffer.alloc(50 * KB, 1), new Date('2000-01-01T00:00:00Z')); // not in files/
    rescan(j);
    j.r.store.pins.pin('phone', 'pinned');
    const r = makeRoom(j.r.store, j.r.layout, 'phone', 100 * KB, ['keep.bin']);
    expect(r.ok).toBe(true);
    expect(r.evicted.map((e) => e.path)).toEqual(['free.bin']);
    expect(onDevice(j, 'pinned/a.bin') && onDevice(j, 'keep.bin') && onDevice(j, 'sent-by-phone.bin')).toBe(true);
  });

  it('fails with a clear reason and evicts nothing when the get cannot fit', () => {
    const j = deviceWith(
      [
        { path: 'pinned/big.bin', kb: 1200 },
        { path: 'other.bin', kb: 500 },
      ],
      2_000 * KB,
    );
    j.r.store.pins.pin('phone', 'pinned');
    const r = makeRoom(j.r.store, j.r.layout, 'phone', 2_000 * KB, ['new.iso']);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe('needs 3.1 MiB, limit 1.9 MiB');
    expect(r.evicted).toEqual([]);
    expect(onDevice(j, 'other.bin')).toBe(true);
  });

  it('--dry-run lists what would go and removes nothing; no limit means nothing to do', () => {
    const j = deviceWith([{ path: 'a.bin', kb: 300 }, { path: 'b.bin', kb: 300, mtime: '2025-01-01T00:00:00Z' }], 400 * KB);
    const dry = runBalance(j.r.store, j.r.layout, { dryRun: true });
    expect(dry.devices[0]).toMatchObject({ ok: true, dryRun: true, neededBytes: 200 * KB });
    expect(dry.devices[0]!.evicted.map((e) => e.path)).toEqual(['a.bin']);
    expect(onDevice(j, 'a.bin')).toBe(true);
    j.r.store.devices.setQuota('phone', null);
    expect(runBalance(j.r.store, j.r.layout).devices[0]).toMatchObject({ ok: true, evicted: [] });
  });

  it('CLI: device set, pin and balance (dry run, then for real)', () => {
    const j = deviceWith([{ path: 'keep/a.bin', kb: 600 }, { path: 'b.bin', kb: 600 }], null);
    const root = j.dir;
    expect(burrow(['device', 'set', 'phone', '--quota', '1', '--root', root, '--json']).stdout).toContain('"quotaBytes": 1048576');
    expect(burrow(['pin', 'keep', '--device', 'phone', '--root', root]).status).toBe(0);
    const dry = burrow(['balance', '--dry-run', '--root', root]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would remove 1 links');
    expect(dry.stdout).toContain('b.bin');
    expect(onDevice(j, 'b.bin')).toBe(true);
    const real = JSON.parse(burrow(['balance', '--device', 'phone', '--root', root, '--json']).stdout) as { ok: boolean; devices: Array<{ evicted: Array<{ path: string }> }> };
    expect(real.ok).toBe(true);
    expect(real.devices[0]!.evicted.map((e) => e.path)).toEqual(['b.bin']);
    expect(onDevice(j, 'b.bin')).toBe(false);
    expect(onDevice(j, 'keep/a.bin')).toBe(true);
    // Over the limit with only pinned files left: exit 1 with the reason.
    burrow(['device', 'set', 'phone', '--quota', '0.1', '--root', root]);
    const fail = burrow(['balance', '--root', root]);
    expect(fail.status).toBe(1);
    expect(fail.stderr).toMatch(/needs 585\.9 KiB, limit 102\.4 KiB/);
  });
});
