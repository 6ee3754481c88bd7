import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { makeFixture, addDevices, HOSTILE_NAMES, type Fixture } from './fixture.js';
import { decodeCatalogue, runDataScript } from './decode.js';
import { Publisher } from '../../server/src/catalogue/publish.js';
import { buildCatalogueData } from '../../server/src/catalogue/build.js';
import { shareArea } from '../../server/src/store/entries-repo.js';
import { SharesRepo } from '../../server/src/store/shares-repo.js';
import type { RequestStatus } from '../../server/src/nas-context.js';

let f: Fixture;
afterEach(() => f?.cleanup());

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  return out.sort();
}

describe('publishing the catalogue', () => {
  test('a full publish, which writes shards as it cuts them, leaves on disk exactly what the build renders', () => {
    f = makeFixture();
    addDevices(f, 'a');
    for (let i = 0; i < 60; i++) f.write(`dir-${i % 7}/file-${i}.txt`, `content ${i}`);
    f.link('dir-1/file-1.txt', 'a');
    f.rescan();
    // Shards of a few records, so there are many; a first publish, then a second over its output.
    const publisher = new Publisher(f.r.layout);
    publisher.publish({ store: f.r.store, trashDays: 7, chunkEvery: 4 });
    fs.rmSync(path.join(f.r.layout.files, 'dir-3'), { recursive: true });
    f.rescan();
    const stats = new Publisher(f.r.layout).publish({ store: f.r.store, trashDays: 7, chunkEvery: 4 });
    expect(stats.mode).toBe('full');
    const want = buildCatalogueData({ store: f.r.store, devices: ['a'], trashDays: 7, chunkEvery: 4 }).files;
    expect(want.size).toBeGreaterThan(10);
    const onDisk = listFiles(f.r.layout.catalogue).filter((rel) => rel.startsWith('data/') || rel.startsWith('devices/'));
    expect(onDisk).toEqual([...want.keys()].sort());
    for (const [rel, body] of want) expect(fs.readFileSync(path.join(f.r.layout.catalogue, rel), 'utf8'), rel).toBe(body);
  });

  test('every path, its kind, size and the devices that hold its inode are in the shards', () => {
    f = makeFixture();
    addDevices(f, 'a', 'b');
    f.write('x', 'hello');
    f.write('docs/a.txt', 'aaa');
    f.write('docs/sub/b.txt', 'bbbb');
    f.link('x', 'a');
    f.link('docs/a.txt', 'a');
    f.link('docs/a.txt', 'b');
    fs.mkdirSync(path.join(f.r.layout.shared, 'abc-2026-01-01-000000'), { recursive: true });
    fs.linkSync(path.join(f.r.layout.files, 'docs/sub/b.txt'), path.join(f.r.layout.shared, 'abc-2026-01-01-000000', 'b.txt'));
    new SharesRepo(f.r.store.db).add({ id: 'abc-2026-01-01-000000', kind: 'file', source_path: 'docs/sub/b.txt', limit_mb: null, created_by: '@nas', created_at: 1 });
    f.rescan();
    const stats = f.publish();
    expect(stats.files).toBe(3);
    expect(stats.folders).toBe(2);
    const { index, entries } = decodeCatalogue(f.r.layout.catalogue);
    expect(index.devices).toEqual(['a', 'b']);
    expect(index.trashDays).toBe(7);
    const by = Object.fromEntries(entries.map((e) => [e.path, e]));
    expect(Object.keys(by).sort()).toEqual(['docs', 'docs/a.txt', 'docs/sub', 'docs/sub/b.txt', 'x']);
    expect(by['x']).toMatchObject({ kind: 'f', size: 5, holders: ['a'] });
    expect(by['docs/a.txt']!.holders).toEqual(['a', 'b']);
    expect(by['docs/sub/b.txt']!.holders).toEqual(['+abc-2026-01-01-000000']);
    expect(by['docs']!.kind).toBe('d');
    // The first-draw summary carries the top folder's whole subtree.
    const [summary] = runDataScript(path.join(f.r.layout.catalogue, 'data', 'summary.js'), 'BURROW_SUMMARY') as [{ files: number; top: unknown[][] }];
    expect(summary.files).toBe(3);
    const docs = summary.top.find((t) => t[0] === 'docs')!;
    expect(docs.slice(1, 3)).toEqual(['d', 7]);
    expect(docs[4]).toBe(2);
    expect(docs[5]).toBe('+abc-2026-01-01-000000/a/b');
    expect(summary.top.find((t) => t[0] === 'x')![5]).toBe('a');
  });

  test('an unchanged store rewrites nothing; device.js is written into each device folder', () => {
    f = makeFixture();
    addDevices(f, 'laptop');
    f.write('a.txt');
    f.rescan();
    const pub = new Publisher(f.r.layout);
    const first = pub.publish({ store: f.r.store, trashDays: 7 });
    expect(first.writtenFiles).toBe(first.totalFiles);
    expect(pub.publish({ store: f.r.store, trashDays: 7 }).writtenFiles).toBe(0);
    // A fresh publisher (a restarted NAS) compares bytes on disk instead.
    expect(f.publish().writtenFiles).toBe(0);
    const js = fs.readFileSync(path.join(f.r.layout.device('laptop'), '.burrow', 'device.js'), 'utf8');
    expect(js).toBe('window.BURROW_DEVICE={"name":"laptop"};\n');
    expect(listFiles(f.r.layout.catalogue).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  test('one added file or one changed device set rewrites one shard plus the small summary; others keep their inode', () => {
    f = makeFixture();
    addDevices(f, 'a');
    for (let d = 0; d < 20; d++) for (let i = 0; i < 100; i++) f.write(`dir${d}/file-${i}.txt`, `${d}/${i}`);
    f.rescan();
    const pub = new Publisher(f.r.layout);
    const input = { store: f.r.store, trashDays: 7, chunkEvery: 64 };
    const full = pub.publish(input);
    expect(full.chunks).toBeGreaterThan(10);
    const inodes = new Map(listFiles(f.r.layout.catalogue).map((n) => [n, fs.statSync(path.join(f.r.layout.catalogue, n)).ino]));

    f.write('dir7/file-50b.txt', 'new');
    f.rescan();
    const add = pub.publish(input);
    const shards = add.written.filter((w) => w.startsWith('data/c-'));
    expect(shards.length).toBeGreaterThanOrEqual(1);
    expect(shards.length).toBeLessThanOrEqual(2); // 2 only when the new path itself starts a shard
    expect(add.written.filter((w) => !w.startsWith('data/c-') && w !== 'data/index.js')).toEqual(['data/summary.js']);
    expect(add.writtenBytes).toBeLessThan(full.totalBytes / 5);
    for (const [n, ino] of inodes) if (!add.written.includes(n) && fs.existsSync(path.join(f.r.layout.catalogue, n))) expect(fs.statSync(path.join(f.r.layout.catalogue, n)).ino, n).toBe(ino);

    f.link('dir3/file-10.txt', 'a');
    f.rescan();
    const dev = pub.publish(input);
    expect(dev.written.filter((w) => w.startsWith('data/c-'))).toHaveLength(1);
    expect(dev.written.length).toBeLessThanOrEqual(2);
    expect(decodeCatalogue(f.r.layout.catalogue).entries.find((e) => e.path === 'dir3/file-10.txt')!.holders).toEqual(['a']);
  });

  test('removing files removes shards nobody lists any more, and the manifest stays consistent', () => {
    f = makeFixture();
    for (let i = 0; i < 400; i++) f.write(`many/f${i}.txt`);
    f.rescan();
    const pub = new Publisher(f.r.layout);
    const before = pub.publish({ store: f.r.store, trashDays: 7, chunkEvery: 16 });
    fs.rmSync(path.join(f.r.layout.files, 'many'), { recursive: true });
    f.write('only.txt');
    f.rescan();
    const after = pub.publish({ store: f.r.store, trashDays: 7, chunkEvery: 16 });
    expect(after.removedFiles).toBeGreaterThanOrEqual(before.chunks - 1);
    const { index, entries } = decodeCatalogue(f.r.layout.catalogue);
    expect(entries.map((e) => e.path)).toEqual(['only.txt']);
    expect(fs.readdirSync(path.join(f.r.layout.catalogue, 'data')).sort()).toEqual([...index.chunks.map((c) => `c-${c}.js`), 'index.js', 'summary.js'].sort());
  });

  test('hostile names survive the format unchanged', () => {
    f = makeFixture();
    for (const h of HOSTILE_NAMES) f.write(`evil/${h}`, 'x');
    f.write('back\\slash|pipe/inner|x\\.txt');
    f.rescan();
    f.publish();
    const paths = decodeCatalogue(f.r.layout.catalogue).entries.map((e) => e.path);
    for (const h of HOSTILE_NAMES) expect(paths).toContain(`evil/${h}`);
    expect(paths).toContain('back\\slash|pipe/inner|x\\.txt');
  });

  test('each device gets its own small request shard, from the request processor when there is one', () => {
    f = makeFixture();
    addDevices(f, 'a', 'b');
    f.rescan();
    const now = Date.now();
    const recent: Record<string, RequestStatus[]> = {
      a: [{ id: 'r1', device: 'a', action: 'get', path: 'x', state: 'failed', reason: 'no room on a', createdAt: now, updatedAt: now }],
    };
    const requests = { recentForDevice: (d: string, limit: number) => (recent[d] ?? []).slice(0, limit) };
    const pub = new Publisher(f.r.layout);
    pub.publish({ store: f.r.store, trashDays: 7, requests });
    const [dev, rows] = runDataScript(path.join(f.r.layout.catalogue, 'devices', 'a.js'), 'BURROW_REQUESTS') as [string, Array<Record<string, unknown>>];
    expect(dev).toBe('a');
    expect(rows).toEqual([{ id: 'r1', action: 'get', path: 'x', state: 'failed', reason: 'no room on a', updatedAt: now }]);
    expect(runDataScript(path.join(f.r.layout.catalogue, 'devices', 'b.js'), 'BURROW_REQUESTS')[1]).toEqual([]);
    // One request changing state rewrites only that device's shard.
    recent.a![0] = { ...recent.a![0]!, state: 'done', reason: undefined, updatedAt: now + 1 };
    expect(pub.publish({ store: f.r.store, trashDays: 7, requests }).written).toEqual(['devices/a.js']);
  });

  test('share areas count as holders by path (of an active share), never as devices', () => {
    f = makeFixture();
    f.write('s.txt');
    f.rescan();
    new SharesRepo(f.r.store.db).add({ id: 'zzz', kind: 'file', source_path: 's.txt', limit_mb: null, created_by: '@nas', created_at: 1 });
    const row = f.r.store.entries.get('files', 's.txt')!;
    f.r.store.entries.upsert({ ...row, area: shareArea('zzz') });
    f.publish();
    const e = decodeCatalogue(f.r.layout.catalogue).entries.find((x) => x.path === 's.txt')!;
    expect(e.holders).toEqual(['+zzz']);
  });
});
