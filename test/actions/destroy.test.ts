import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, exists, listFiles, type Fixture } from '../requests/fixture.js';
import { listTrash, restoreTrash, emptyTrash } from '../../server/src/actions/trash.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('destroy', () => {
  it('needs confirmation', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'a' } });
    const st = await fx.run('destroy', 'a.txt');
    expect(st.reason).toMatch(/needs confirmation/);
    expect(exists(fx.files('a.txt'))).toBe(true);
  });

  it('removes a folder from files/, every device and every share, into the trash; restore brings it back', async () => {
    fx = await makeFixture({ files: { 'trip/a.jpg': 'a', 'trip/day2/b.jpg': 'b', 'keep.txt': 'k' } });
    await fx.run('get', 'trip');
    await fx.run('get', 'trip/day2', { device: 'laptop' });
    const share = await fx.run('share', 'trip/a.jpg', { device: '@nas' });
    const shareId = (share.result as { shareId: string }).shareId;
    fs.writeFileSync(fx.dev('phone', 'trip/phone-only.jpg'), 'not adopted yet');
    const st = await fx.run('destroy', 'trip', { confirm: true });
    expect(st.state).toBe('done');
    const r = st.result as { trashId: string; files: number; linksRemoved: number; deviceCopiesTrashed: number; keptForDays: number };
    expect(r).toMatchObject({ files: 2, linksRemoved: 4, deviceCopiesTrashed: 1, keptForDays: 7 });
    expect(exists(fx.files('trip'))).toBe(false);
    expect(exists(fx.dev('phone', 'trip'))).toBe(false);
    expect(exists(fx.dev('laptop', 'trip'))).toBe(false);
    expect(listFiles(fx.r.layout.share(shareId))).toEqual([]);
    expect(listFiles(fx.files(''))).toEqual(['keep.txt']);
    expect(fx.proc.subscriptions.list()).toEqual([]);
    const trashDir = path.join(fx.r.layout.trash, r.trashId);
    expect(listFiles(trashDir)).toEqual(['devices/phone/trip/phone-only.jpg', 'meta.json', 'payload/trip/a.jpg', 'payload/trip/day2/b.jpg']);
    expect(listTrash(fx.proc.trash, 7).map((i) => i.originalPath)).toEqual(['trip']);

    const restored = restoreTrash(fx.proc.trash, fx.r.layout, r.trashId);
    expect(restored).toContain('trip');
    expect(listFiles(fx.files('trip'))).toEqual(['a.jpg', 'day2/b.jpg']);
    expect(fs.readFileSync(fx.files(`restored-${r.trashId}/devices/phone/trip/phone-only.jpg`), 'utf8')).toBe('not adopted yet');
    expect(listTrash(fx.proc.trash, 7)).toEqual([]);
  });

  it('restores beside the original name when it is taken, and empties after the retention time', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'old' } });
    const st = await fx.run('destroy', 'a.txt', { confirm: true });
    const id = (st.result as { trashId: string }).trashId;
    fs.writeFileSync(fx.files('a.txt'), 'new');
    const restored = restoreTrash(fx.proc.trash, fx.r.layout, id);
    expect(restored[0]).toMatch(/^a\.txt\.restored-/);
    expect(fs.readFileSync(fx.files('a.txt'), 'utf8')).toBe('new');

    const st2 = await fx.run('destroy', 'a.txt', { confirm: true });
    const id2 = (st2.result as { trashId: string }).trashId;
    expect(emptyTrash(fx.proc.trash, fx.r.layout, { retentionDays: 7 })).toEqual([]);
    expect(emptyTrash(fx.proc.trash, fx.r.layout, { retentionDays: 7, now: new Date(Date.now() + 8 * 86_400_000) })).toEqual([id2]);
    expect(exists(path.join(fx.r.layout.trash, id2))).toBe(false);
  });

  it('refuses the whole store', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'a' } });
    expect((await fx.run('destroy', '', { confirm: true })).reason).toMatch(/top of the store/);
  });
});

describe('destroy never acts through a symlink a device planted', () => {
  it('leaves a device path that leads out of the root alone', async () => {
    fx = await makeFixture({ files: { 't/x.txt': 'store' } });
    const outside = path.join(path.dirname(fx.root), 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'x.txt'), 'not Burrow\'s');
    fs.symlinkSync(outside, fx.dev('phone', 't'));
    const st = await fx.run('destroy', 't', { confirm: true });
    expect(st.state).toBe('done');
    expect(fs.readFileSync(path.join(outside, 'x.txt'), 'utf8')).toBe("not Burrow's");
    expect(fs.lstatSync(fx.dev('phone', 't')).isSymbolicLink()).toBe(true);
  });
});
