import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, exists, ino, type Fixture } from '../requests/fixture.js';

// Soak finding 4 (scripts/soak/repro-destroy-deduped-twin.ts): dedupe makes files/a.bin and
// files/b.bin one inode; destroying a.bin must not take a device's copy of b.bin.
let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('destroy of a deduped file', () => {
  it('leaves a device copy of the twin path that stays in the store', async () => {
    fx = await makeFixture({ files: { 'a.bin': 'twins\n'.repeat(1000) } });
    // What dedupe does: b.bin becomes a hard link of a.bin.
    fs.linkSync(fx.files('a.bin'), fx.files('b.bin'));
    fx.indexer.reconcile();
    expect((await fx.run('get', 'b.bin', { device: 'laptop' })).state).toBe('done');
    expect((await fx.run('get', 'a.bin', { device: 'phone' })).state).toBe('done');
    expect(ino(fx.dev('laptop', 'b.bin'))).toBe(ino(fx.files('a.bin')));
    fx.indexer.reconcile();

    const st = await fx.run('destroy', 'a.bin', { confirm: true });
    expect(st.state).toBe('done');
    expect(exists(fx.files('a.bin'))).toBe(false);
    expect(exists(fx.dev('phone', 'a.bin'))).toBe(false);
    expect(exists(fx.files('b.bin'))).toBe(true);
    expect(exists(fx.dev('laptop', 'b.bin'))).toBe(true);
    expect(fs.readFileSync(fx.dev('laptop', 'b.bin'), 'utf8')).toBe('twins\n'.repeat(1000));
  });

  it('still removes a device copy kept under a name the store does not have', async () => {
    fx = await makeFixture({ files: { 'a.bin': 'solo' } });
    expect((await fx.run('get', 'a.bin', { device: 'laptop' })).state).toBe('done');
    fs.renameSync(fx.dev('laptop', 'a.bin'), fx.dev('laptop', 'renamed.bin'));
    fx.indexer.reconcile();
    const st = await fx.run('destroy', 'a.bin', { confirm: true });
    expect(st.state).toBe('done');
    expect(exists(fx.dev('laptop', 'renamed.bin'))).toBe(false);
  });
});
