import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, exists, ino, type Fixture } from '../requests/fixture.js';
import { recordingSync } from './recording-sync.js';
import { REFUSED_NOTE } from '../../server/src/actions/adopt-share.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const MiB = 1024 * 1024;
let n = 0;

describe('adopt-share', () => {
  it("takes a friend's files within the limit, refuses the rest with a note, and never takes the owner's own links", async () => {
    fx = await makeFixture({ files: { 'fam/owner.txt': 'owner', 'fam/gone.txt': 'the owner deletes this later' } });
    fx.services.set('folder-sync', recordingSync((s) => fx!.r.layout.share(s)));
    expect((await fx.run('share-folder', 'fam', { device: '@nas', args: { limitMb: 1 } })).state).toBe('done');
    const share = fx.r.layout.share('fam');
    // What the sync engine received from a friend (nas-sync records the inode it wrote).
    const friendWrites = (rel: string, bytes: number) => {
      fs.mkdirSync(path.dirname(path.join(share, rel)), { recursive: true });
      fs.writeFileSync(path.join(share, rel), Buffer.alloc(bytes, 7));
      fx!.r.store.shareAdoptions.recordReceived('fam', rel, ino(path.join(share, rel)));
    };
    const adopt = () => fx!.proc.submit({ id: `adopt-share-test-${n++}`, device: '@nas', action: 'adopt-share', path: 'fam', args: { shareId: 'fam' } }, 'auto').done;

    friendWrites('fam/a.bin', 600_000);
    friendWrites('fam/sub/b.bin', 600_000); // 1.2 MB in all: past 1 MiB
    friendWrites('top.bin', 10); // outside fam/: no place for it in files/
    fs.writeFileSync(path.join(share, 'fam', 'not-from-sync.txt'), 'someone on the NAS shell'); // no friend wrote it
    fs.rmSync(fx.files('fam/gone.txt')); // the owner deletes a shared file: the share keeps the last link
    const st = await adopt();
    expect(st).toMatchObject({ state: 'done', result: { adopted: ['fam/a.bin'], refused: ['fam/sub/b.bin'], outside: ['top.bin'], usedBytes: 600_000, limitBytes: MiB } });
    expect(ino(fx.files('fam/a.bin'))).toBe(ino(path.join(share, 'fam/a.bin')));
    for (const p of ['fam/sub/b.bin', 'fam/gone.txt', 'fam/not-from-sync.txt', 'top.bin']) expect(exists(fx.files(p)), p).toBe(false);
    expect(exists(path.join(share, 'fam/sub/b.bin'))).toBe(true); // refused, not lost
    const note = fs.readFileSync(path.join(share, REFUSED_NOTE), 'utf8');
    expect(note).toMatch(/fam\/sub\/b\.bin {2}\(585\.9 KiB\)/);
    expect(note).toContain('top.bin');

    // The same state again: nothing new, the note is not rewritten.
    const noteIno = ino(path.join(share, REFUSED_NOTE));
    expect((await adopt()).result).toMatchObject({ adopted: [], refused: ['fam/sub/b.bin'] });
    expect(ino(path.join(share, REFUSED_NOTE))).toBe(noteIno);

    // The owner makes room (removes the adopted file from files/): the refused file is taken, and
    // the removed one is not taken back; with nothing refused the note goes.
    fs.rmSync(fx.files('fam/a.bin'));
    fs.rmSync(path.join(share, 'top.bin'));
    expect((await adopt()).result).toMatchObject({ adopted: ['fam/sub/b.bin'], refused: [], usedBytes: 600_000 });
    expect(exists(fx.files('fam/a.bin'))).toBe(false);
    expect(exists(path.join(share, REFUSED_NOTE))).toBe(false);
  });

  it("keeps a friend's version of a file the store holds beside it, never over it", async () => {
    fx = await makeFixture({ files: { 'fam/doc.txt': 'owner version' } });
    fx.services.set('folder-sync', recordingSync((s) => fx!.r.layout.share(s)));
    await fx.run('share-folder', 'fam', { device: '@nas', args: { limitMb: -1 } });
    const inShare = path.join(fx.r.layout.share('fam'), 'fam/doc.txt');
    fs.rmSync(inShare); // the engine replaces by rename: a new inode
    fs.writeFileSync(inShare, 'friend version');
    fx.r.store.shareAdoptions.recordReceived('fam', 'fam/doc.txt', ino(inShare));
    const st = await fx.proc.submit({ id: 'adopt-share-conflict-1', device: '@nas', action: 'adopt-share', path: 'fam', args: { shareId: 'fam' } }, 'auto').done;
    const adopted = (st.result as { adopted: string[] }).adopted;
    expect(adopted).toHaveLength(1);
    expect(adopted[0]).toMatch(/^fam\/doc\.conflict-shared-\d{4}-\d\d-\d\d-\d{6}\.txt$/);
    expect(fs.readFileSync(fx.files('fam/doc.txt'), 'utf8')).toBe('owner version');
    expect(fs.readFileSync(fx.files(adopted[0]!), 'utf8')).toBe('friend version');
  });
});
