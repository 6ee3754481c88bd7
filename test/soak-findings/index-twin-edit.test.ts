import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, ino, type Fixture } from '../requests/fixture.js';

// Soak finding 6 (seed 202, 2026-12-02): dedupe made files/photos/seed-4.bin and files/dup-1-42.bin
// one inode; the owner rewrote seed-4.bin in place. The watcher hears only of the path written
// through, so the index (and every catalogue) kept dup-1-42.bin and the devices' links at the
// old size until the next full reconcile, hours later.
let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('an in-place edit of a hard-linked store file', () => {
  it('updates every path of that inode in the index: the deduped twin and the device links', async () => {
    fx = await makeFixture({ files: { 'a.bin': 'twins\n'.repeat(100) } });
    fs.linkSync(fx.files('a.bin'), fx.files('b.bin'));
    fx.indexer.reconcile();
    expect((await fx.run('get', 'b.bin', { device: 'laptop' })).state).toBe('done');
    expect(ino(fx.dev('laptop', 'b.bin'))).toBe(ino(fx.files('a.bin')));

    fs.writeFileSync(fx.files('a.bin'), 'rewritten in place, a different size');
    fx.indexer.refresh([fx.files('a.bin')]); // what the watcher does on the event for a.bin
    const size = fs.statSync(fx.files('a.bin')).size;
    const entries = fx.r.store.entries;
    expect(entries.get('files', 'a.bin')?.size).toBe(size);
    expect(entries.get('files', 'b.bin')?.size).toBe(size);
    expect(entries.get('device:laptop', 'b.bin')?.size).toBe(size);
  });
});
