import fs from 'node:fs';
import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, ino, exists, listFiles, type Fixture } from '../requests/fixture.js';
import { NO_SECRET_YET } from '../../server/src/actions/share.js';
import { recordingSync } from './recording-sync.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('share', () => {
  it('makes shared/<sha1 of content>-<YYYY-MM-DD-HHMMSS>/ with a hard link, and reports no secret without a sync engine', async () => {
    fx = await makeFixture({ files: { 'docs/report.pdf': 'the report' } });
    const st = await fx.run('share', 'docs/report.pdf', { device: '@nas' });
    const r = st.result as { shareId: string; secrets: unknown; secretNote: string };
    const sha1 = crypto.createHash('sha1').update('the report').digest('hex');
    expect(r.shareId).toMatch(new RegExp(`^${sha1}-\\d{4}-\\d\\d-\\d\\d-\\d{6}$`));
    expect(r.secrets).toBeNull();
    expect(r.secretNote).toBe(NO_SECRET_YET);
    expect(ino(fx.r.layout.share(r.shareId) + '/report.pdf')).toBe(ino(fx.files('docs/report.pdf')));
    // The same file shared twice gets two separately revocable folders.
    const st2 = await fx.run('share', 'docs/report.pdf', { device: '@nas' });
    expect((st2.result as { shareId: string }).shareId).not.toBe(r.shareId);
  });

  it('registers the share with the sync engine and returns its read-only secret', async () => {
    fx = await makeFixture({ files: { 'p/x.jpg': 'x', 'p/y.jpg': 'y' } });
    const sync = recordingSync((n) => fx!.r.layout.share(n));
    fx.services.set('folder-sync', sync);
    const st = await fx.run('share', 'p', { device: 'phone' });
    const r = st.result as { shareId: string; secrets: { readOnly: string; readWrite?: string } };
    expect(r.secrets.readOnly).toMatch(/^B/);
    expect(r.secrets.readWrite).toBeUndefined();
    expect(sync.calls).toEqual([`add share ${r.shareId} send-only files=2`]);
    expect(listFiles(fx.r.layout.share(r.shareId))).toEqual(['p/x.jpg', 'p/y.jpg']);
    expect(fx.proc.shares.get(r.shareId)).toMatchObject({ source_path: 'p', kind: 'folder', state: 'active', created_by: 'phone' });
  });
});

describe('revoke', () => {
  it('FIRST stops syncing, THEN unlinks, THEN removes the folder; files/ untouched', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'a' } });
    const sync = recordingSync((n) => fx!.r.layout.share(n));
    fx.services.set('folder-sync', sync);
    const id = ((await fx.run('share', 'a.txt', { device: '@nas' })).result as { shareId: string }).shareId;
    const st = await fx.run('revoke', 'a.txt', { device: '@nas', args: { shareId: id } });
    expect(st).toMatchObject({ state: 'done', result: { unlinked: 1, trashed: 0 } });
    expect(sync.calls[1]).toBe(`remove share ${id} files=1`); // still linked when syncing stopped
    expect(exists(fx.r.layout.share(id))).toBe(false);
    expect(fs.readFileSync(fx.files('a.txt'), 'utf8')).toBe('a');
    expect(fx.proc.shares.get(id)?.state).toBe('revoked');
    expect((await fx.run('revoke', 'a.txt', { device: '@nas', args: { shareId: id } })).reason).toMatch(/already revoked/);
  });

  it('refuses a missing or foreign share id', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'a', 'b.txt': 'b' } });
    const id = ((await fx.run('share', 'a.txt', { device: '@nas' })).result as { shareId: string }).shareId;
    expect((await fx.run('revoke', 'a.txt', { device: '@nas' })).reason).toMatch(/needs the share to revoke/);
    expect((await fx.run('revoke', 'b.txt', { device: '@nas', args: { shareId: id } })).reason).toMatch(/is of files\/a\.txt/);
    expect(exists(fx.r.layout.share(id))).toBe(true);
  });
});
