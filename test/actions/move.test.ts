import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, ino, exists, type Fixture } from '../requests/fixture.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('move', () => {
  it('links to every target device, then removes from the source', async () => {
    fx = await makeFixture({ devices: ['phone', 'laptop', 'tablet'], files: { 'v/film.mkv': 'film' } });
    await fx.run('get', 'v/film.mkv');
    const st = await fx.run('move', 'v/film.mkv', { args: { to: ['laptop', 'tablet'] } });
    expect(st).toMatchObject({ state: 'done', result: { to: ['laptop', 'tablet'], removed: 1 } });
    expect(exists(fx.dev('phone', 'v/film.mkv'))).toBe(false);
    for (const d of ['laptop', 'tablet']) expect(ino(fx.dev(d, 'v/film.mkv'))).toBe(ino(fx.files('v/film.mkv')));
  });

  it('moves a folder subscription along', async () => {
    fx = await makeFixture({ files: { 'm/a.mp3': 'a' } });
    await fx.run('get', 'm');
    await fx.run('move', 'm', { args: { to: ['laptop'] } });
    expect(fx.proc.subscriptions.list()).toEqual([{ device: 'laptop', path: 'm' }]);
  });

  it('refuses missing targets, unknown targets, and moving to itself, changing nothing', async () => {
    fx = await makeFixture({ files: { 'a.txt': 'a' } });
    await fx.run('get', 'a.txt');
    expect((await fx.run('move', 'a.txt')).reason).toMatch(/move needs the devices to move to/);
    expect((await fx.run('move', 'a.txt', { args: { to: ['ghost'] } })).reason).toMatch(/no device named "ghost"/);
    expect((await fx.run('move', 'a.txt', { args: { to: ['phone'] } })).reason).toMatch(/to itself/);
    expect(exists(fx.dev('phone', 'a.txt'))).toBe(true);
    expect(exists(fx.dev('laptop', 'a.txt'))).toBe(false);
  });
});
