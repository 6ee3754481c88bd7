import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, exists, listFiles, type Fixture } from '../requests/fixture.js';
import { recordingSync } from '../actions/recording-sync.js';
import { shareStateText } from '../../server/src/store/shares-repo.js';
import { publishCatalogue } from '../../server/src/catalogue/publish.js';
import { runDataScript } from '../catalogue/decode.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

/** What the sync engine leaves in every folder it syncs: its private temp folder. */
function engineLeftovers(dir: string): void {
  fs.mkdirSync(path.join(dir, '.burrow-sync', 'tmp'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.burrow-sync', 'tmp', 'part-1'), 'half a transfer');
}

function publishedShares(f: Fixture): unknown[] {
  publishCatalogue({ store: f.r.store, layout: f.r.layout, trashDays: 7 });
  return (runDataScript(path.join(f.r.layout.catalogue, 'data', 'index.js'), 'BURROW_INDEX')[0] as { shares: unknown[] }).shares;
}

describe('shares end with what they share', () => {
  it('destroy ends the shares of the file: "ended: file destroyed", not syncing, folder gone', async () => {
    fx = await makeFixture({ files: { 'docs/a.txt': 'a', 'docs/b.txt': 'b' } });
    const sync = recordingSync((n) => fx!.r.layout.share(n));
    fx.services.set('folder-sync', sync);
    const id = ((await fx.run('share', 'docs/a.txt', { device: '@nas' })).result as { shareId: string }).shareId;
    const other = ((await fx.run('share', 'docs/b.txt', { device: '@nas' })).result as { shareId: string }).shareId;
    engineLeftovers(fx.r.layout.share(id));
    const st = await fx.run('destroy', 'docs/a.txt', { device: '@nas', confirm: true });
    expect(st.state, st.reason).toBe('done');
    expect(st.result).toMatchObject({ endedShares: [id] });
    const row = fx.proc.shares.get(id)!;
    expect(shareStateText(row)).toBe('ended: file destroyed');
    // It stopped syncing while its link was still there, so the engine let go before anything was removed.
    expect(sync.calls.find((c) => c.startsWith(`remove share ${id} `))).not.toMatch(/files=0$/);
    expect(exists(fx.r.layout.share(id))).toBe(false);
    expect(fx.proc.shares.get(other)!.state).toBe('active');
    expect(publishedShares(fx)).toEqual([[other, 'docs/b.txt', 'ro']]);
  });

  it('destroy-folder ends the shares of what was inside, and destroy of a folder ends its folder shares', async () => {
    fx = await makeFixture({ files: { 'f/in.txt': 'i', 'g/x.txt': 'x' } });
    const inner = ((await fx.run('share', 'f/in.txt', { device: '@nas' })).result as { shareId: string }).shareId;
    expect((await fx.run('destroy-folder', 'f', { device: '@nas', confirm: true })).state).toBe('done');
    expect(shareStateText(fx.proc.shares.get(inner)!)).toBe('ended: file destroyed');
    const folderShare = ((await fx.run('share-folder', 'g', { device: '@nas', args: { limitMb: -1 } })).result as { shareId: string }).shareId;
    expect((await fx.run('destroy', 'g', { device: '@nas', confirm: true })).state).toBe('done');
    expect(shareStateText(fx.proc.shares.get(folderShare)!)).toBe('ended: folder destroyed');
    expect(exists(fx.r.layout.share(folderShare))).toBe(false);
  });

  it('a revoked folder share stays revoked; <name>-revoked-dd-mm-yy/ is no share and holds no .burrow-sync/', async () => {
    fx = await makeFixture({ files: { 'family/a.jpg': 'a' } });
    fx.services.set('folder-sync', recordingSync((n) => fx!.r.layout.share(n)));
    await fx.run('share-folder', 'family', { device: '@nas', args: { limitMb: 5 } });
    engineLeftovers(fx.r.layout.share('family'));
    const rv = await fx.run('revoke-share', 'family', { device: '@nas', args: { shareId: 'family' } });
    expect(rv.state, rv.reason).toBe('done');
    const to = (rv.result as { revokedTo: string }).revokedTo;
    expect(fx.proc.shares.list({ active: true })).toEqual([]);
    expect(fx.proc.shares.get(to)).toBeUndefined();
    expect(fs.readdirSync(fx.r.layout.share(to))).toEqual(['family']);
    expect(listFiles(fx.r.layout.share(to))).toEqual(['family/a.jpg']);
    expect(publishedShares(fx)).toEqual([]);
  });

  it('revoke removes the engine folder too, so the share folder really goes', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'a' } });
    const id = ((await fx.run('share', 'a.txt', { device: '@nas' })).result as { shareId: string }).shareId;
    engineLeftovers(fx.r.layout.share(id));
    expect((await fx.run('revoke', 'a.txt', { device: '@nas', args: { shareId: id } })).state).toBe('done');
    expect(exists(fx.r.layout.share(id))).toBe(false);
  });
});
