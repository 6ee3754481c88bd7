import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, ino, exists, listFiles, type Fixture } from '../requests/fixture.js';
import { recordingSync } from './recording-sync.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('share-folder and revoke-share', () => {
  it('shares a folder read-write with its limit recorded, then revoke-share moves the links to <name>-revoked-<dd-mm-yy>/', async () => {
    fx = await makeFixture({ files: { 'family/a.jpg': 'a', 'family/x/b.jpg': 'b' } });
    const sync = recordingSync((n) => fx!.r.layout.share(n));
    fx.services.set('folder-sync', sync);
    const st = await fx.run('share-folder', 'family', { device: '@nas', args: { limitMb: 500 } });
    expect(st).toMatchObject({ state: 'done', result: { shareId: 'family', limitMb: 500, files: 2 } });
    // The read-write secret stays in the secrets table (a request's result is served over HTTP).
    expect((st.result as { secrets: { readOnly: string; readWrite?: string } }).secrets).toMatchObject({ readOnly: expect.stringMatching(/^B/) });
    expect(JSON.stringify(st.result)).not.toContain(sync.secretsOf('share', 'family')!.readWrite);
    expect(fx.proc.shares.get('family')).toMatchObject({ limit_mb: 500, state: 'active' });
    const inoA = ino(fx.files('family/a.jpg'));
    expect(ino(fx.r.layout.share('family') + '/family/a.jpg')).toBe(inoA);

    const rv = await fx.run('revoke-share', 'family', { device: '@nas', args: { shareId: 'family' } });
    const to = (rv.result as { revokedTo: string }).revokedTo;
    expect(to).toMatch(/^family-revoked-\d\d-\d\d-\d\d$/);
    expect(exists(fx.r.layout.share('family'))).toBe(false);
    expect(listFiles(fx.r.layout.share(to))).toEqual(['family/a.jpg', 'family/x/b.jpg']);
    expect(ino(fx.r.layout.share(to) + '/family/a.jpg')).toBe(inoA);
    // The revoked share stays revoked: the renamed folder is not a new share and is not synced.
    expect(sync.calls.slice(1)).toEqual([`remove share family files=2`]);
    expect(fx.proc.shares.get('family')).toMatchObject({ state: 'revoked', revoked_to: to });
    expect(fx.proc.shares.get(to)).toBeUndefined();
    expect((rv.result as { secrets?: unknown }).secrets).toBeUndefined();
  });

  it('needs a whole-number limit, a folder, and a folder share for revoke-share', async () => {
    fx = await makeFixture({ files: { 'f/a.txt': 'a' } });
    expect((await fx.run('share-folder', 'f', { device: '@nas' })).reason).toMatch(/needs a size limit in MB/);
    expect((await fx.run('share-folder', 'f', { device: '@nas', args: { limitMb: 1.5 } })).reason).toMatch(/whole number/);
    expect((await fx.run('share-folder', 'f/a.txt', { device: '@nas', args: { limitMb: -1 } })).reason).toMatch(/not a folder/);
    const id = ((await fx.run('share', 'f', { device: '@nas' })).result as { shareId: string }).shareId;
    expect((await fx.run('revoke-share', 'f', { device: '@nas', args: { shareId: id } })).reason).toMatch(/read-only share; use revoke/);
  });
});
