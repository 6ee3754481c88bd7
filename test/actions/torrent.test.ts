import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, listFiles, type Fixture } from '../requests/fixture.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('torrent and torrent-once', () => {
  it.each(['torrent', 'torrent-once'])('%s answers "not available yet" and changes nothing', async (action) => {
    fx = await makeFixture({ files: { 'a.txt': 'a' } });
    const st = await fx.run(action, 'a.txt');
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/not available yet/);
    expect(listFiles(fx.r.layout.torrents)).toEqual([]);
  });
});
