import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, exists, ino, listFiles, type Fixture } from '../requests/fixture.js';
import { restoreTrash } from '../../server/src/actions/trash.js';

// Soak finding 3 (SOAK.md): dedupe made a.bin and b.bin one
// inode; destroying b.bin must leave the trash holding b.bin's bytes, whatever a.bin becomes.
let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const BYTES = 'the same bytes\n'.repeat(1000);

describe('the trash of a deduped file', () => {
  it('keeps what was destroyed when the live twin is edited in place', async () => {
    fx = await makeFixture({ files: { 'a.bin': BYTES } });
    fs.linkSync(fx.files('a.bin'), fx.files('b.bin')); // what dedupe does
    fx.indexer.reconcile();
    const st = await fx.run('destroy', 'b.bin', { confirm: true });
    expect(st.state).toBe('done');
    const id = (st.result as { trashId: string }).trashId;
    const trashed = path.join(fx.r.layout.trash, id, 'payload', 'b.bin');
    expect(ino(trashed)).not.toBe(ino(fx.files('a.bin')));
    fs.writeFileSync(fx.files('a.bin'), 'a.bin edited in place afterwards\n'); // same inode, as over SMB
    expect(fs.readFileSync(trashed, 'utf8')).toBe(BYTES);
    restoreTrash(fx.proc.trash, fx.r.layout, id);
    expect(fs.readFileSync(fx.files('b.bin'), 'utf8')).toBe(BYTES);
    expect(fs.readFileSync(fx.files('a.bin'), 'utf8')).toBe('a.bin edited in place afterwards\n');
  });

  it('copies a shared file inside a destroyed folder, and leaves the twin and its device copy alone', async () => {
    fx = await makeFixture({ files: { 'keep/a.bin': BYTES, 'trip/solo.txt': 'solo' } });
    fs.linkSync(fx.files('keep/a.bin'), fx.files('trip/b.bin'));
    fx.indexer.reconcile();
    expect((await fx.run('get', 'keep', { device: 'laptop' })).state).toBe('done');
    const st = await fx.run('destroy', 'trip', { confirm: true });
    expect(st.state).toBe('done');
    const id = (st.result as { trashId: string }).trashId;
    const payload = path.join(fx.r.layout.trash, id, 'payload');
    expect(listFiles(payload)).toEqual(['trip/b.bin', 'trip/solo.txt']);
    expect(ino(path.join(payload, 'trip/b.bin'))).not.toBe(ino(fx.files('keep/a.bin')));
    expect(ino(fx.dev('laptop', 'keep/a.bin'))).toBe(ino(fx.files('keep/a.bin')));
    expect(exists(fx.files('trip'))).toBe(false);
    fs.writeFileSync(fx.files('keep/a.bin'), 'edited\n');
    expect(fs.readFileSync(path.join(payload, 'trip/b.bin'), 'utf8')).toBe(BYTES);
  });
});
