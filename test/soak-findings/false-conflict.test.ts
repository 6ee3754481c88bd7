import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, ino, listFiles, type Fixture } from '../requests/fixture.js';

// Soak finding 2 (SOAK.md): the owner edits files/f.txt in place
// (the device's hard link sees it), then the device edits its copy; that is a plain edit, not a conflict.
let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const adopt = (f: Fixture, device: string, p: string) => f.proc.submit({ id: `adopt-${Math.random().toString(36).slice(2, 12)}`, device, action: 'adopt', path: p }, 'auto').done;

describe('a device edit after an in-place store edit', () => {
  it('replaces the store copy (the in-place version goes to the trash), with no conflict copy', async () => {
    fx = await makeFixture({ files: { 'f.txt': 'version 1\n' } });
    expect((await fx.run('get', 'f.txt')).state).toBe('done');
    const before = ino(fx.files('f.txt'));
    fs.writeFileSync(fx.files('f.txt'), 'version 2, edited in the store in place\n');
    expect(ino(fx.files('f.txt'))).toBe(before);
    expect(fs.readFileSync(fx.dev('phone', 'f.txt'), 'utf8')).toBe('version 2, edited in the store in place\n');
    // The sync engine writes the device's edit as a new file renamed over the old one.
    fs.writeFileSync(fx.dev('phone', '.tmp-f'), 'version 3, edited on the phone\n');
    fs.renameSync(fx.dev('phone', '.tmp-f'), fx.dev('phone', 'f.txt'));
    const st = await adopt(fx, 'phone', 'f.txt');
    expect(st.result).toMatchObject({ replaced: 1, conflicts: [] });
    expect(fs.readFileSync(fx.files('f.txt'), 'utf8')).toBe('version 3, edited on the phone\n');
    expect(listFiles(fx.files(''))).toEqual(['f.txt']);
    const trashed = fx.proc.trash.present();
    expect(trashed).toHaveLength(1);
    expect(fs.readFileSync(path.join(fx.r.layout.trash, trashed[0]!.id, 'payload', 'f.txt'), 'utf8')).toBe('version 2, edited in the store in place\n');
  });
});
