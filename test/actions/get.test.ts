import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, ino, exists, listFiles, type Fixture } from '../requests/fixture.js';
import { deviceArea } from '../../server/src/store/entries-repo.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('get', () => {
  it('hard-links a file to the device, making parent folders, and the index sees it at once', async () => {
    fx = await makeFixture({ files: { 'music/album/song.mp3': 'la la' } });
    const st = await fx.run('get', 'music/album/song.mp3');
    expect(st.state).toBe('done');
    expect(ino(fx.dev('phone', 'music/album/song.mp3'))).toBe(ino(fx.files('music/album/song.mp3')));
    expect(fx.r.store.entries.get(deviceArea('phone'), 'music/album/song.mp3')?.kind).toBe('file');
    expect(exists(fx.dev('laptop', 'music'))).toBe(false);
  });

  it('links a whole folder and keeps it subscribed: files added later are linked by the service', async () => {
    fx = await makeFixture({ files: { 'photos/a.jpg': 'a', 'photos/2020/b.jpg': 'b', 'other.txt': 'x' } });
    const st = await fx.run('get', 'photos');
    expect(st.result).toMatchObject({ kind: 'dir', linked: 2, subscribed: true });
    expect(listFiles(fx.dev('phone', ''))).toEqual(['photos/2020/b.jpg', 'photos/a.jpg']);
    expect(fx.proc.subscriptions.subscribersOf('photos/new.jpg')).toEqual(['phone']);
  });

  it('records a folder get\'s links in the index exactly as an lstat of each sees them', async () => {
    fx = await makeFixture({ files: { 'photos/a.jpg': 'a', 'photos/2020/b.jpg': 'bb', 'photos/2020/c.jpg': 'ccc' } });
    const st = await fx.run('get', 'photos');
    expect(st.state).toBe('done');
    for (const rel of ['photos/a.jpg', 'photos/2020/b.jpg', 'photos/2020/c.jpg']) {
      const row = fx.r.store.entries.get(deviceArea('phone'), rel);
      const disk = fs.lstatSync(fx.dev('phone', rel));
      expect(row).toMatchObject({ kind: 'file', parent: rel.slice(0, rel.lastIndexOf('/')), size: disk.size, ino: disk.ino, dev: disk.dev, nlink: disk.nlink, mtime_ms: disk.mtimeMs, mode: disk.mode });
      expect(disk.nlink).toBe(2);
    }
    expect(fx.r.store.entries.get(deviceArea('phone'), 'photos/2020')?.kind).toBe('dir');
  });

  it('is idempotent: a second get reports the file already there', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'a' } });
    await fx.run('get', 'a.txt');
    const st = await fx.run('get', 'a.txt');
    expect(st.state).toBe('done');
    expect(st.result).toMatchObject({ linked: 0, alreadyThere: 1 });
  });

  it('never overwrites a different file already at the device path', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'store' } });
    fs.writeFileSync(fx.dev('phone', 'a.txt'), 'device version');
    const st = await fx.run('get', 'a.txt');
    expect(st.result).toMatchObject({ linked: 0, skipped: ['a.txt'] });
    expect(fs.readFileSync(fx.dev('phone', 'a.txt'), 'utf8')).toBe('device version');
  });

  it('fails with a clear reason for an unknown path or device, and touches nothing', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'a' } });
    const st = await fx.run('get', 'nope.txt');
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/files\/nope\.txt does not exist/);
    const st2 = await fx.run('get', 'a.txt', { device: 'toaster' });
    expect(st2.reason).toMatch(/no device named "toaster"/);
    expect(listFiles(fx.dev('phone', ''))).toEqual([]);
  });

  it('respects a device quota: without a balancer the get fails saying how much it needs', async () => {
    fx = await makeFixture({ files: { 'big.bin': 'x'.repeat(3000) }, quotaMb: { phone: 0.001 } });
    const st = await fx.run('get', 'big.bin');
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/needs 2\.9 KiB, limit 1\.0 KiB/);
    expect(exists(fx.dev('phone', 'big.bin'))).toBe(false);
  });

  it('asks the balancer for room first, and fails with its reason when it cannot', async () => {
    fx = await makeFixture({ files: { 'big.bin': 'x'.repeat(3000) }, quotaMb: { phone: 0.001 } });
    const asked: unknown[] = [];
    fx.services.set('balancer', { makeRoom: async (d: string, bytes: number, keep: string[]) => (asked.push([d, bytes, keep]), { ok: false, freedBytes: 0, reason: 'needs 3.2 GB, limit 2 GB' }) });
    const st = await fx.run('get', 'big.bin');
    expect(asked).toEqual([['phone', 3000 - 1049, ['big.bin']]]);
    expect(st.reason).toMatch(/needs 3\.2 GB, limit 2 GB/);
    fx.services.set('balancer', { makeRoom: async () => ({ ok: true, freedBytes: 5000 }) });
    expect((await fx.run('get', 'big.bin')).state).toBe('done');
  });
});
