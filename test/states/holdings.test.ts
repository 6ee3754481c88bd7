import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, addDevices, type Fixture } from '../catalogue/fixture.js';
import { decodeCatalogue, runDataScript } from '../catalogue/decode.js';
import { SharesRepo } from '../../server/src/store/shares-repo.js';
import { RequestsRepo } from '../../server/src/store/requests-repo.js';
import { compareUtf8 } from '../../server/src/catalogue/build.js';

let f: Fixture | undefined;
afterEach(() => {
  f?.cleanup();
  f = undefined;
});

describe('a device holds a path, not an inode', () => {
  it('after dedupe linked two store files, the device holding one is not shown holding the other', () => {
    f = makeFixture('burrow-hold-');
    addDevices(f, 'desk', 'phone');
    f.write('photos/a.jpg', 'same bytes');
    f.write('backup/a-copy.jpg', 'same bytes');
    f.write('z.txt', 'z');
    // What dedupe does: the duplicate becomes a hard link of the keeper.
    fs.rmSync(path.join(f.r.layout.files, 'backup/a-copy.jpg'));
    fs.linkSync(path.join(f.r.layout.files, 'photos/a.jpg'), path.join(f.r.layout.files, 'backup/a-copy.jpg'));
    f.link('photos/a.jpg', 'desk');
    f.link('z.txt', 'phone');
    // A share of photos/a.jpg holds that path only.
    const share = path.join(f.r.layout.shared, 's1');
    fs.mkdirSync(share, { recursive: true });
    fs.linkSync(path.join(f.r.layout.files, 'photos/a.jpg'), path.join(share, 'a.jpg'));
    new SharesRepo(f.r.store.db).add({ id: 's1', kind: 'file', source_path: 'photos/a.jpg', limit_mb: null, created_by: 'desk', created_at: 1 });
    f.rescan();
    f.publish();
    const by = Object.fromEntries(decodeCatalogue(f.r.layout.catalogue).entries.map((e) => [e.path, e.holders]));
    expect(by['photos/a.jpg']).toEqual(['desk', '+s1']);
    expect(by['backup/a-copy.jpg']).toEqual([]);
    expect(by['z.txt']).toEqual(['phone']);
    const [summary] = runDataScript(path.join(f.r.layout.catalogue, 'data', 'summary.js'), 'BURROW_SUMMARY') as [{ top: unknown[][] }];
    expect(summary.top.find((t) => t[0] === 'backup')![5]).toBe('');
  });

  it('a revoked share holds nothing', () => {
    f = makeFixture('burrow-hold-');
    f.write('a.txt', 'a');
    const share = path.join(f.r.layout.shared, 's2');
    fs.mkdirSync(share, { recursive: true });
    fs.linkSync(path.join(f.r.layout.files, 'a.txt'), path.join(share, 'a.txt'));
    const shares = new SharesRepo(f.r.store.db);
    shares.add({ id: 's2', kind: 'file', source_path: 'a.txt', limit_mb: null, created_by: '@nas', created_at: 1 });
    shares.revoke('s2', null);
    f.rescan();
    f.publish();
    expect(decodeCatalogue(f.r.layout.catalogue).entries.find((e) => e.path === 'a.txt')!.holders).toEqual([]);
  });

  it('merges device paths in SQLite order, also past U+FFFF', () => {
    const names = ['a', 'a/b', 'a0', '\uffff', '\u{1F600}', 'é', 'z'];
    const utf8 = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...names].sort(compareUtf8)).toEqual(utf8);
  });
});

describe("a device's request shard", () => {
  it('says how far the NAS has read that device worklist', () => {
    f = makeFixture('burrow-hold-');
    addDevices(f, 'desk');
    new RequestsRepo(f.r.store.db).setOffset('desk', 1234, 1, 'h');
    f.publish();
    expect(runDataScript(path.join(f.r.layout.catalogue, 'devices', 'desk.js'), 'BURROW_REQUESTS')[2]).toEqual({ worklistReadTo: 1234 });
  });
});
