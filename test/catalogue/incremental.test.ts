/**
 * Incremental publish (issue 16): after any sequence of index changes, a Publisher that re-reads
 * only the changed paths leaves catalogue/ byte for byte as a full build of the same index would.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { makeFixture, type Fixture } from './fixture.js';
import { decodeCatalogue } from './decode.js';
import { Publisher } from '../../server/src/catalogue/publish.js';
import { buildCatalogueData } from '../../server/src/catalogue/build.js';
import { parentOf, shareArea, type EntryRow } from '../../server/src/store/entries-repo.js';
import { SharesRepo } from '../../server/src/store/shares-repo.js';
import type { ScanChange } from '../../server/src/index/scanner.js';

let f: Fixture | undefined;
afterEach(() => {
  f?.cleanup();
  f = undefined;
});

/** Name parts chosen to collide in prefixes and to cross UTF-16 / UTF-8 order differences. */
const PARTS = ['a', 'b', 'a b', 'a-b', 'ab', 'z|x', 'back\\slash', 'é', '\uffef', '😀', 'x'.repeat(30)];
const SHARE = { id: 'sh1', source: 'a' };

function entry(area: string, p: string, kind: 'file' | 'dir', size: number, mtime: number): EntryRow {
  return { area, path: p, parent: parentOf(p), kind, size, mtime_ms: mtime, ino: 1, dev: 1, nlink: 1, mode: kind === 'dir' ? 0o40755 : 0o100644, uid: 0, gid: 0, link_target: null, error: null };
}

/** Every file the catalogue holds except the static page, with its bytes. */
function onDisk(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const sub of ['data', 'devices']) {
    if (!fs.existsSync(path.join(dir, sub))) continue;
    for (const name of fs.readdirSync(path.join(dir, sub))) out.set(`${sub}/${name}`, fs.readFileSync(path.join(dir, sub, name), 'utf8'));
  }
  return out;
}

type Op =
  | { t: 'add'; parts: number[]; size: number; mtime: number }
  | { t: 'rm'; pick: number }
  | { t: 'touch'; pick: number; size: number }
  | { t: 'hold'; pick: number; device: number }
  | { t: 'share'; pick: number }
  | { t: 'devices' }
  | { t: 'publish' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('add' as const), parts: fc.array(fc.nat(PARTS.length - 1), { minLength: 1, maxLength: 3 }), size: fc.nat(1e9), mtime: fc.nat(2e12) }), weight: 6 },
  { arbitrary: fc.record({ t: fc.constant('rm' as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('touch' as const), pick: fc.nat(), size: fc.nat(1e9) }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('hold' as const), pick: fc.nat(), device: fc.nat(1) }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('share' as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.constant({ t: 'devices' as const }), weight: 1 },
  { arbitrary: fc.constant({ t: 'publish' as const }), weight: 3 },
);

describe('incremental publish', () => {
  test('after random change sequences it writes exactly what a full build of the same index makes', () => {
    f = makeFixture('burrow-incr-');
    const { store, layout } = f.r;
    store.devices.add('laptop', null);
    store.devices.add('phone', null);
    new SharesRepo(store.db).add({ id: SHARE.id, kind: 'folder', source_path: SHARE.source, limit_mb: null, created_by: '@nas', created_at: 1 });
    let runs = 0;
    let incremental = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 2, max: 12 }), (ops, chunkEvery) => {
        // Start each run from an empty index and a fresh Publisher (a full build).
        store.db.exec("DELETE FROM entries WHERE area = 'files' OR area LIKE 'device:%' OR area LIKE 'share:%'");
        fs.rmSync(layout.catalogue, { recursive: true, force: true });
        const publisher = new Publisher(layout);
        let devices = ['laptop', 'phone'];
        let changes: ScanChange[] = [];
        const paths = (): string[] => store.db.prepare("SELECT path FROM entries WHERE area = 'files' AND path != '' ORDER BY path").pluck().all() as string[];
        const upsert = (row: EntryRow) => {
          store.entries.upsert(row);
          changes.push({ area: row.area, path: row.path });
        };
        const check = () => {
          const stats = publisher.publish({ store, trashDays: 7, devices, chunkEvery, changes });
          changes = [];
          if (stats.mode === 'incremental') incremental++;
          const full = buildCatalogueData({ store, devices, trashDays: 7, chunkEvery });
          const disk = onDisk(layout.catalogue);
          expect([...disk.keys()].sort()).toEqual([...full.files.keys()].sort());
          for (const [rel, body] of full.files) expect(disk.get(rel), rel).toBe(body);
        };
        for (let i = 0; i < 3; i++) upsert(entry('files', `seed-${i}`, 'file', i, 1e12));
        check();
        for (const op of ops) {
          const all = paths();
          const at = (n: number) => all[n % all.length]!;
          if (op.t === 'add') {
            const parts = op.parts.map((n) => PARTS[n]!);
            for (let d = 1; d < parts.length; d++) upsert(entry('files', parts.slice(0, d).join('/'), 'dir', 0, op.mtime));
            const p = parts.join('/');
            if (!all.some((x) => x.startsWith(p + '/'))) upsert(entry('files', p, 'file', op.size, op.mtime));
          } else if (op.t === 'rm' && all.length > 0) {
            store.entries.remove('files', at(op.pick));
            changes.push({ area: 'files', path: at(op.pick) });
          } else if (op.t === 'touch' && all.length > 0) {
            const row = store.entries.get('files', at(op.pick))!;
            upsert({ ...row, size: row.kind === 'dir' ? 0 : op.size, mtime_ms: row.mtime_ms + 1000 });
          } else if (op.t === 'hold' && all.length > 0) {
            const area = `device:${['laptop', 'phone'][op.device]}`;
            const p = at(op.pick);
            if (store.entries.get(area, p)) {
              store.entries.remove(area, p);
              changes.push({ area, path: p });
            } else upsert(entry(area, p, 'file', 1, 1));
          } else if (op.t === 'share' && all.length > 0) {
            const p = at(op.pick);
            const area = shareArea(SHARE.id);
            if (store.entries.get(area, p)) {
              store.entries.remove(area, p);
              changes.push({ area, path: p });
            } else upsert(entry(area, p, 'file', 1, 1));
          } else if (op.t === 'devices') {
            // A device joins (with an empty folder) or leaves.
            devices = devices.includes('tablet') ? devices.filter((d) => d !== 'tablet') : [...devices, 'tablet'];
          } else if (op.t === 'publish') check();
        }
        check();
        runs++;
      }),
      { numRuns: 30 },
    );
    // The property is only worth something if most publishes really were incremental.
    expect(runs).toBe(30);
    expect(incremental).toBeGreaterThan(runs);
  });

  test('one changed file at thousands of files rereads one stretch and rewrites one shard plus the manifest and summary', () => {
    f = makeFixture('burrow-incr-');
    const { store, layout } = f.r;
    store.devices.add('laptop', null);
    store.tx(() => {
      for (let d = 0; d < 50; d++) {
        store.entries.upsert(entry('files', `d${d}`, 'dir', 0, 1e12));
        for (let i = 0; i < 100; i++) store.entries.upsert(entry('files', `d${d}/f${i}.txt`, 'file', i, 1e12));
      }
    });
    const publisher = new Publisher(layout);
    const first = publisher.publish({ store, trashDays: 7, changes: [] });
    expect(first.mode).toBe('full');
    store.entries.upsert(entry('files', 'd17/f42-new.txt', 'file', 5, 1.7e12));
    const second = publisher.publish({ store, trashDays: 7, changes: [{ area: 'files', path: 'd17/f42-new.txt' }] });
    expect(second.mode).toBe('incremental');
    expect(second.written.filter((w) => w.startsWith('data/c-')).length).toBeLessThanOrEqual(2);
    expect(second.written).toContain('data/summary.js');
    expect(second.totalFiles).toBe(first.totalFiles + (second.chunks - first.chunks));
    expect(decodeCatalogue(layout.catalogue).entries.map((e) => e.path)).toContain('d17/f42-new.txt');
    // The phone joins with an empty folder: its request shard and the manifest, no data shard.
    store.devices.add('phone', null);
    const third = publisher.publish({ store, trashDays: 7, changes: [] });
    expect(third.mode).toBe('incremental');
    expect(third.written.sort()).toEqual(['data/index.js', 'devices/phone.js']);
  });

  test('a publish that fails forgets the kept build: the next one is full and repairs the disk', () => {
    f = makeFixture('burrow-incr-');
    const { store, layout } = f.r;
    for (let i = 0; i < 50; i++) store.entries.upsert(entry('files', `f${i}`, 'file', i, 1e12));
    const publisher = new Publisher(layout);
    publisher.publish({ store, trashDays: 7, changes: [] });
    const data = path.join(layout.catalogue, 'data');
    fs.rmSync(data, { recursive: true });
    fs.writeFileSync(data, 'in the way');
    store.entries.upsert(entry('files', 'f7', 'file', 777, 1e12));
    expect(() => publisher.publish({ store, trashDays: 7, changes: [{ area: 'files', path: 'f7' }] })).toThrow();
    fs.rmSync(data);
    const again = publisher.publish({ store, trashDays: 7, changes: [] });
    expect(again.mode).toBe('full');
    const full = buildCatalogueData({ store, devices: [], trashDays: 7 });
    const disk = onDisk(layout.catalogue);
    for (const [rel, body] of full.files) expect(disk.get(rel), rel).toBe(body);
  });
});
