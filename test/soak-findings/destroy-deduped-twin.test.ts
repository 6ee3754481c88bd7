import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, exists, ino, type Fixture } from '../requests/fixture.js';

// Soak finding 4 (SOAK.md): dedupe makes files/a.bin and
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

  it('leaves a share of the twin path (file and folder shares), and still clears the destroyed file\'s own share', async () => {
    // Soak seed 101: destroy of dup-9-29.bin emptied the shares of two deduped twins of it.
    fx = await makeFixture({ files: { 'a.bin': 'twins\n'.repeat(1000), 'dir/keep.txt': 'k' } });
    fs.linkSync(fx.files('a.bin'), fx.files('b.bin'));
    fs.linkSync(fx.files('a.bin'), fx.files('dir/c.bin'));
    fx.indexer.reconcile();
    const fileShare = await fx.run('share', 'b.bin', { confirm: true });
    const folderShare = await fx.run('share-folder', 'dir', { confirm: true, args: { limitMb: -1 } });
    const ownShare = await fx.run('share', 'a.bin', { confirm: true });
    expect([fileShare.state, folderShare.state, ownShare.state]).toEqual(['done', 'done', 'done']);
    const shared = (st: typeof fileShare, rel: string) => path.join(fx!.r.layout.share(String(st.result!.shareId)), rel);
    expect(ino(shared(fileShare, 'b.bin'))).toBe(ino(fx.files('a.bin')));
    expect(ino(shared(folderShare, 'dir/c.bin'))).toBe(ino(fx.files('a.bin')));
    fx.indexer.reconcile();

    expect((await fx.run('destroy', 'a.bin', { confirm: true })).state).toBe('done');
    expect(exists(fx.files('b.bin'))).toBe(true);
    expect(ino(shared(fileShare, 'b.bin'))).toBe(ino(fx.files('b.bin')));
    expect(ino(shared(folderShare, 'dir/c.bin'))).toBe(ino(fx.files('dir/c.bin')));
    expect(exists(shared(ownShare, 'a.bin'))).toBe(false);
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
