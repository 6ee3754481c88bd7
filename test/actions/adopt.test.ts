import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, ino, listFiles, type Fixture } from '../requests/fixture.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const adopt = (f: Fixture, device: string, p: string) => f.proc.submit({ id: `adopt-${Math.random().toString(36).slice(2, 12)}`, device, action: 'adopt', path: p }, 'auto').done;

describe('adopt (device edits and new files)', () => {
  it('is internal: a device cannot ask for it', async () => {
    fx = await makeFixture();
    expect((await fx.run('adopt', '')).reason).toMatch(/Unknown action "adopt"/);
  });

  it('takes a new device file (and folder) into files/ at the same path', async () => {
    fx = await makeFixture();
    fs.mkdirSync(fx.dev('phone', 'camera/2026'), { recursive: true });
    fs.writeFileSync(fx.dev('phone', 'camera/2026/img1.jpg'), 'img');
    const st = await adopt(fx, 'phone', 'camera');
    expect(st.result).toMatchObject({ adopted: 1 });
    expect(ino(fx.files('camera/2026/img1.jpg'))).toBe(ino(fx.dev('phone', 'camera/2026/img1.jpg')));
  });

  it('a changed version replaces the store copy, is relinked to every other holder, and the old one goes to the trash', async () => {
    fx = await makeFixture({ files: { 'notes.txt': 'v1' } });
    await fx.run('get', 'notes.txt');
    await fx.run('get', 'notes.txt', { device: 'laptop' });
    // A sync tool writes a temp file and renames it: a new inode at the device path.
    fs.writeFileSync(fx.dev('phone', '.tmp-notes'), 'v2 from phone');
    fs.renameSync(fx.dev('phone', '.tmp-notes'), fx.dev('phone', 'notes.txt'));
    const st = await adopt(fx, 'phone', 'notes.txt');
    expect(st.result).toMatchObject({ replaced: 1, relinked: 1, conflicts: [] });
    expect(fs.readFileSync(fx.files('notes.txt'), 'utf8')).toBe('v2 from phone');
    expect(ino(fx.dev('laptop', 'notes.txt'))).toBe(ino(fx.files('notes.txt')));
    expect(ino(fx.dev('phone', 'notes.txt'))).toBe(ino(fx.files('notes.txt')));
    const trashed = fx.proc.trash.present();
    expect(trashed).toHaveLength(1);
    expect(fs.readFileSync(`${fx.r.layout.trash}/${trashed[0]!.id}/payload/notes.txt`, 'utf8')).toBe('v1');
  });

  it('keeps both when files/ changed too: the device version gets a conflict name, on the device as well', async () => {
    fx = await makeFixture({ files: { 'plan.md': 'v1' } });
    await fx.run('get', 'plan.md');
    fs.writeFileSync(fx.files('.tmp'), 'store edit');
    fs.renameSync(fx.files('.tmp'), fx.files('plan.md'));
    fs.writeFileSync(fx.dev('phone', '.tmp'), 'phone edit');
    fs.renameSync(fx.dev('phone', '.tmp'), fx.dev('phone', 'plan.md'));
    const st = await adopt(fx, 'phone', 'plan.md');
    const c = (st.result as { conflicts: string[] }).conflicts;
    expect(c).toHaveLength(1);
    expect(c[0]).toMatch(/^plan\.conflict-phone-\d{4}-\d\d-\d\d-\d{6}\.md$/);
    expect(fs.readFileSync(fx.files('plan.md'), 'utf8')).toBe('store edit');
    expect(fs.readFileSync(fx.files(c[0]!), 'utf8')).toBe('phone edit');
    expect(fs.readFileSync(fx.dev('phone', 'plan.md'), 'utf8')).toBe('store edit');
    expect(fs.readFileSync(fx.dev('phone', c[0]!), 'utf8')).toBe('phone edit');
    expect(listFiles(fx.files(''))).toHaveLength(2);
  });
});
