import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, ino, listFiles, type Fixture } from '../requests/fixture.js';
import { DESTROYED_NOTE } from '../../server/src/actions/destroy-folder.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('destroy-folder', () => {
  it('wipes the contents everywhere and leaves the note in files/ and on every device holding the folder', async () => {
    fx = await makeFixture({ files: { 'club/a.doc': 'a', 'club/minutes/b.doc': 'b' } });
    await fx.run('get', 'club');
    await fx.run('get', 'club/minutes', { device: 'laptop' });
    const st = await fx.run('destroy-folder', 'club', { confirm: true });
    expect(st).toMatchObject({ state: 'done', result: { note: DESTROYED_NOTE, notedOn: ['laptop', 'phone'], files: 2 } });
    expect(listFiles(fx.files('club'))).toEqual([DESTROYED_NOTE]);
    expect(fs.readFileSync(fx.files(`club/${DESTROYED_NOTE}`), 'utf8')).toMatch(/^This folder was destroyed by the owner\. \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n$/);
    expect(listFiles(fx.dev('phone', 'club'))).toEqual([DESTROYED_NOTE]);
    expect(ino(fx.dev('laptop', `club/${DESTROYED_NOTE}`))).toBe(ino(fx.files(`club/${DESTROYED_NOTE}`)));
    expect(fs.statSync(fx.dev('laptop', 'club')).isDirectory()).toBe(true);
  });

  it('needs confirmation and a folder', async () => {
    fx = await makeFixture({ files: { 'club/a.doc': 'a' } });
    expect((await fx.run('destroy-folder', 'club')).reason).toMatch(/needs confirmation/);
    expect((await fx.run('destroy-folder', 'club/a.doc', { confirm: true })).reason).toMatch(/not a folder/);
    expect(listFiles(fx.files('club'))).toEqual(['a.doc']);
  });
});
