import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, listFiles, type Fixture } from '../requests/fixture.js';
import { burrow } from '../helpers/cli.js';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';

/**
 * Issue 11, item 3: one request naming the top of the store (path "") must not destroy, share,
 * get, move or delete everything. mkdir still creates a folder at the top.
 */
let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('the top of the store is refused for folder actions', () => {
  it.each([
    ['destroy-folder', { device: 'phone', confirm: true }],
    ['share-folder', { device: 'phone', args: { limitMb: -1 } }],
    ['get', { device: 'phone' }],
    ['move', { device: 'phone', args: { to: ['laptop'] } }],
    ['delete', { device: 'phone' }],
  ] as const)('%s "" fails with a reason naming the top of the store, and changes nothing', async (action, extra) => {
    fx = await makeFixture({ files: { 'a.txt': 'a', 'f/b.txt': 'b' } });
    expect((await fx.run('get', 'f', { device: 'phone' })).state).toBe('done');
    const st = await fx.run(action, '', extra);
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(new RegExp(`Refused ${action} with the path "": ${action} needs a file or folder, not .*whole .*\\(the top of the store\\)`));
    expect(listFiles(fx.files(''))).toEqual(['a.txt', 'f/b.txt']);
    expect(listFiles(fx.dev('phone', '')).filter((p) => !p.startsWith('.burrow/'))).toEqual(['f/b.txt']);
    expect(listFiles(fx.dev('laptop', '')).filter((p) => !p.startsWith('.burrow/'))).toEqual([]);
    expect(fs.readdirSync(fx.r.layout.shared)).toEqual([]);
  });

  it('mkdir at the top still works', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'a' } });
    expect((await fx.run('mkdir', '', { device: '@nas', args: { name: 'New' } })).state).toBe('done');
    expect(fs.lstatSync(fx.files('New')).isDirectory()).toBe(true);
  });

  it('burrow request destroy-folder "" --yes from the CLI is refused and the store stays', () => {
    const t = tempDir();
    try {
      const root = path.join(t.dir, 'nas');
      initRoot(root);
      const r = openRoot(root);
      addDevice(r, 'phone', null);
      r.close();
      writeFiles(path.join(root, 'files'), { 'a.txt': 'a', 'f/b.txt': 'b' });
      const out = burrow(['request', 'destroy-folder', '', '--device', 'phone', '--yes', '--root', root, '--json']);
      expect(out.status).toBe(1);
      expect(JSON.parse(out.stdout)).toMatchObject({ state: 'failed', reason: expect.stringMatching(/top of the store/) });
      expect(listFiles(path.join(root, 'files'))).toEqual(['a.txt', 'f/b.txt']);
    } finally {
      t.cleanup();
    }
  });
});
