import fs from 'node:fs';
import path from 'node:path';
import bencode from 'bencode';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, type Fixture } from '../requests/fixture.js';
import { TorrentsRepo } from '../../server/src/store/torrents-repo.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('torrent and torrent-once', () => {
  it.each(['torrent', 'torrent-once'])('%s writes .burrow/torrents/<id>.torrent, records it, and changes nothing in files/', async (action) => {
    fx = await makeFixture({ files: { 'a.txt': 'a'.repeat(1000), 'dir/b.txt': 'b' } });
    const st = await fx.run(action, 'dir');
    expect(st.state, st.reason).toBe('done');
    const r = st.result as { torrentId: string; torrentPath: string; magnet: string; kind: string; pending?: unknown };
    expect(r.pending).toBeUndefined();
    expect(r.kind).toBe(action === 'torrent' ? 'public' : 'once');
    const meta = bencode.decode(fs.readFileSync(path.join(fx.root, r.torrentPath))) as { info: { name: Uint8Array; private?: number }; 'url-list': Uint8Array[] };
    expect(Buffer.from(meta.info.name).toString()).toBe('dir');
    expect(meta.info.private).toBe(action === 'torrent' ? undefined : 1);
    expect(Buffer.from(meta['url-list'][0]!).toString()).toMatch(/^http:\/\/.+:7425\/ws\/[0-9a-f]{32}\/$/);
    expect(new TorrentsRepo(fx.r.store.db).get(r.torrentId)).toMatchObject({ state: 'active', source_path: 'dir', total_bytes: 1 });
    expect(fs.readdirSync(fx.files('')).sort()).toEqual(['a.txt', 'dir']);
  });

  it('refuses the whole store and an empty folder, naming what was wrong', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'a' } });
    fs.mkdirSync(fx.files('empty'));
    expect((await fx.run('torrent', 'empty')).reason).toMatch(/files\/empty holds no file with content/);
    expect((await fx.run('torrent', '')).reason).toMatch(/not the whole store/);
    expect(fs.readdirSync(fx.r.layout.torrents)).toEqual([]);
  });

  it.each(['torrent', 'torrent-once'])('%s is refused, saying how to turn torrents on, when torrent.enabled is false', async (action) => {
    fx = await makeFixture({ files: { 'a.txt': 'a'.repeat(1000) } });
    fx.r.config.torrent.enabled = false;
    const st = await fx.run(action, 'a.txt');
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/Torrents are turned off on this NAS \(torrent\.enabled: false/);
    expect(fs.readdirSync(fx.r.layout.torrents)).toEqual([]);
    expect(new TorrentsRepo(fx.r.store.db).list()).toEqual([]);
  });
});
