import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runDedupe } from '../../server/src/jobs/dedupe.js';
import { makeFixture, ino, type Fixture } from '../requests/fixture.js';

// Soak finding 7 (seed 303, 2026-12-02): a public torrent of music/live/seed-2.bin stopped
// ("was replaced by another file") after the nightly dedupe linked that path to an older copy with
// the same bytes. Dedupe must keep a torrent's inode: link the copies to it, never replace it.
let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('dedupe and an active torrent', () => {
  it('keeps the torrent file\'s inode and links the duplicate to it', async () => {
    const bytes = 'same bytes\n'.repeat(2000);
    fx = await makeFixture({ files: { 'old.bin': bytes } });
    // old.bin is older and has more links, so it would be the keeper.
    const old = new Date(Date.now() - 3_600_000);
    fs.utimesSync(fx.files('old.bin'), old, old);
    fs.writeFileSync(fx.files('served.bin'), bytes);
    fx.indexer.reconcile();
    const made = await fx.run('torrent', 'served.bin');
    expect(made.state).toBe('done');
    const served = ino(fx.files('served.bin'));
    const report = await runDedupe(fx.r.store, fx.r.layout.files, { minAgeSeconds: 0, allowMetadataMismatch: true, hashWorkers: 1, refresh: (p) => fx!.indexer.refresh(p) });
    expect(ino(fx.files('served.bin'))).toBe(served);
    expect(ino(fx.files('old.bin'))).toBe(served);
    expect(report.skipped['in-torrent']).toBeUndefined();
  });
});
