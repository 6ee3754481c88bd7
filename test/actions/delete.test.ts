import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, ino, exists, listFiles, type Fixture } from '../requests/fixture.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('delete', () => {
  it("removes only that device's links (and its subscription); files/ and other devices keep theirs", async () => {
    fx = await makeFixture({ files: { 'docs/a.txt': 'a', 'docs/sub/b.txt': 'b' } });
    await fx.run('get', 'docs');
    await fx.run('get', 'docs', { device: 'laptop' });
    const st = await fx.run('delete', 'docs');
    expect(st).toMatchObject({ state: 'done', result: { removed: 2 } });
    expect(exists(fx.dev('phone', 'docs'))).toBe(false);
    expect(listFiles(fx.files('docs'))).toEqual(['a.txt', 'sub/b.txt']);
    expect(listFiles(fx.dev('laptop', 'docs'))).toEqual(['a.txt', 'sub/b.txt']);
    expect(fx.proc.subscriptions.list('phone')).toEqual([]);
    expect(fx.proc.subscriptions.list('laptop')).toEqual([{ device: 'laptop', path: 'docs' }]);
  });

  it('keeps a device file the store does not hold, and says so', async () => {
    fx = await makeFixture({ files: { 'docs/a.txt': 'a' } });
    await fx.run('get', 'docs');
    fs.writeFileSync(fx.dev('phone', 'docs/only-here.txt'), 'precious');
    const st = await fx.run('delete', 'docs');
    expect(st.result).toMatchObject({ removed: 1, keptNotInStore: ['docs/only-here.txt'] });
    expect(fs.readFileSync(fx.dev('phone', 'docs/only-here.txt'), 'utf8')).toBe('precious');
  });

  it('a deleted file inside a subscribed folder is excluded from automatic relinking', async () => {
    fx = await makeFixture({ files: { 'docs/a.txt': 'a', 'docs/b.txt': 'b' } });
    await fx.run('get', 'docs');
    await fx.run('delete', 'docs/a.txt');
    expect(fx.proc.subscriptions.isExcluded('phone', 'docs/a.txt')).toBe(true);
    expect(ino(fx.dev('phone', 'docs/b.txt'))).toBe(ino(fx.files('docs/b.txt')));
    // an explicit get brings it back and lifts the exclusion
    await fx.run('get', 'docs/a.txt');
    expect(fx.proc.subscriptions.isExcluded('phone', 'docs/a.txt')).toBe(false);
  });

  it('fails clearly when the device does not have the path', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'a' } });
    const st = await fx.run('delete', 'a.txt');
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(/devices\/phone\/a\.txt does not exist/);
    expect(exists(fx.files('a.txt'))).toBe(true);
  });
});
