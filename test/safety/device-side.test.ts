import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, listFiles, nextId, type Fixture } from '../requests/fixture.js';
import { writeFiles } from '../helpers/tmp.js';
import { burrow } from '../helpers/cli.js';
import { restoreTrash } from '../../server/src/actions/trash.js';

/**
 * Issue 11, item 2: the device side (get, auto-get, move into devices/<d>/), trash restore into
 * files/, and the publisher's devices/<d>/.burrow/device.js never go through a symlink that a
 * device (through sync) or a user (over SMB) planted. Each case ends with the outside folder
 * unchanged and no store inode linked there.
 */
let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

function outsideOf(f: Fixture, layout: Record<string, string> = {}): string {
  const dir = path.join(path.dirname(f.root), `outside-${nextId()}`);
  fs.mkdirSync(dir, { recursive: true });
  writeFiles(dir, layout);
  return dir;
}

const everything = (dir: string) => listFiles(dir);

describe('the device side is checked when each step runs', () => {
  it('get under a symlinked devices/<d>/Photos links nothing outside', async () => {
    fx = await makeFixture({ files: { 'Photos/2020/a.jpg': 'a', 'Photos/2020/b.jpg': 'b' } });
    const outside = outsideOf(fx, { '2020/.keep': '' });
    fs.mkdirSync(fx.dev('phone', ''), { recursive: true });
    fs.symlinkSync(outside, fx.dev('phone', 'Photos'));
    const st = await fx.run('get', 'Photos/2020', { device: 'phone' });
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/"devices\/phone\/Photos" is a symbolic link/);
    expect(everything(outside)).toEqual(['2020/.keep']);
  });

  it('get and move into a symlinked devices/<d> link nothing outside, and move keeps the source', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'a', 'm/b.txt': 'b' } });
    const outside = outsideOf(fx, { 'm/.keep': '' });
    expect((await fx.run('get', 'm', { device: 'laptop' })).state).toBe('done');
    fs.rmSync(fx.dev('phone', ''), { recursive: true });
    fs.symlinkSync(outside, fx.dev('phone', ''));
    const got = await fx.run('get', 'a.txt', { device: 'phone' });
    expect(got.state).toBe('failed');
    expect(got.reason).toMatch(/"devices\/phone" is a symbolic link/);
    const moved = await fx.run('move', 'm', { device: 'laptop', args: { to: ['phone'] } });
    expect(moved.state).toBe('failed');
    expect(everything(outside)).toEqual(['m/.keep']);
    expect(listFiles(fx.dev('laptop', 'm'))).toEqual(['b.txt']);
  });

  it('auto-get for a subscribed folder adds nothing once the device folder became a symlink', async () => {
    fx = await makeFixture({ files: { 'Photos/2020/a.jpg': 'a' } });
    expect((await fx.run('get', 'Photos', { device: 'phone' })).state).toBe('done');
    const outside = outsideOf(fx, { '2020/.keep': '' });
    fs.rmSync(fx.dev('phone', 'Photos'), { recursive: true });
    fs.symlinkSync(outside, fx.dev('phone', 'Photos'));
    writeFiles(fx.files(''), { 'Photos/2020/new.jpg': 'new' });
    fx.indexer.refresh([fx.files('Photos/2020/new.jpg')]);
    const st = await fx.proc.submit({ id: nextId(), device: 'phone', action: 'auto-get', path: 'Photos/2020/new.jpg', args: {}, confirm: false }, 'auto').done;
    expect(st.state).toBe('failed');
    expect(everything(outside)).toEqual(['2020/.keep']);
  });

  it('trash restore refuses a symlinked folder of the original path and keeps the item in the trash', async () => {
    fx = await makeFixture({ files: { 'A/B/x.txt': 'x' } });
    const st = await fx.run('destroy', 'A/B/x.txt', { device: '@nas', confirm: true });
    const id = (st.result as { trashId: string }).trashId;
    const outside = outsideOf(fx, { 'B/.keep': '' });
    fs.renameSync(fx.files('A'), fx.files('A-real'));
    fs.symlinkSync(outside, fx.files('A'));
    expect(() => restoreTrash(fx!.proc.trash, fx!.r.layout, id)).toThrow(/"files\/A" is a symbolic link/);
    expect(everything(outside)).toEqual(['B/.keep']);
    expect(listFiles(path.join(fx.r.layout.trash, id, 'payload'))).toEqual(['x.txt']);
  });

  it('publish does not write device.js through a symlinked devices/<d>/.burrow', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'a' } });
    const outside = outsideOf(fx, { 'keep.txt': 'k' });
    fs.rmSync(fx.dev('phone', '.burrow'), { recursive: true, force: true });
    fs.symlinkSync(outside, fx.dev('phone', '.burrow'));
    const root = fx.root;
    await fx.proc.idle();
    const r = burrow(['publish', '--root', root, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(everything(outside)).toEqual(['keep.txt']);
    expect(fs.readFileSync(fx.dev('laptop', '.burrow/device.js'), 'utf8')).toContain('"laptop"');
  });
});
