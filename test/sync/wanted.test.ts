import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { newFolderSecrets, parseSecret } from '../../server/src/sync/index.js';
import { IndexDb } from '../../server/src/sync/model/index-db.js';
import { makeRecord, openRecord, verifyRecord } from '../../server/src/sync/model/records.js';
import { needTable } from '../../server/src/sync/model/tables.js';
import { Wanted, newWant } from '../../server/src/sync/model/wanted.js';
import { tmpDir } from './helpers.js';

describe('the versions a folder wants', () => {
  it('keep their records in the database, not in memory, and read them back when the puller holds them', async () => {
    const keys = parseSecret(newFolderSecrets().readWrite);
    const db = IndexDb.open(path.join(await tmpDir(), 'f.db'));
    let saves = 0;
    const need = needTable(db, () => {
      saves++;
      db.save({ index: 'i', seq: 0, records: [], blocks: [], local: [], peers: [], have: [], need: need.take() });
    });
    const wanted = new Wanted(need, (w) => {
      const s = verifyRecord(keys, w, { trusted: true });
      return { s, p: openRecord(keys, s) };
    });
    const N = 5_000;
    for (let i = 0; i < N; i++) {
      const p = { path: `d${i % 100}/f${i}.txt`, size: 100, mtime: 1_700_000_000_000, mode: 0o644, bs: 128 * 1024, blocks: ['A'.repeat(43) + '='], del: false };
      const s = makeRecord(keys, p, [['0123456789abcdef', i + 1]], [['B'.repeat(43) + '=', 128]]);
      wanted.set(newWant(s, p, [], undefined, false));
    }
    // More wants than the write-behind holds: they went to the database in batches.
    expect(saves).toBeGreaterThan(0);
    expect(need.pendingCount).toBeLessThan(4000);
    expect(wanted.size).toBe(N);
    const ws = [...wanted.values()];
    expect(ws.every((w) => w.s === undefined && w.p === undefined)).toBe(true);
    expect(ws[7]!.size).toBe(100);

    // The puller holds one: its record comes back whole, signed as it was.
    const w = ws[7]!;
    expect(wanted.hold(w)).toBe(w);
    expect(w.p!.path).toBe('d7/f7.txt');
    expect(w.s!.hash).toBe(w.hash);
    wanted.release(w);
    expect(w.s).toBeUndefined();
    expect(wanted.record(w)!.p!.path).toBe('d7/f7.txt');

    // No longer wanted: its record leaves the database too.
    wanted.delete(w.id);
    db.save({ index: 'i', seq: 0, records: [], blocks: [], local: [], peers: [], have: [], need: need.take() });
    expect(db.needOf(w.id)).toBeUndefined();
    expect(db.needOf(ws[8]!.id)).toBeDefined();
    db.clearNeed();
    expect(db.needOf(ws[8]!.id)).toBeUndefined();
    db.close();
  });
});
