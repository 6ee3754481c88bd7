import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, ino, exists, type Fixture } from '../requests/fixture.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('move', () => {
  it('links to every target device and keeps the source until move-finish (when the targets hold it)', async () => {
    fx = await makeFixture({ devices: ['phone', 'laptop', 'tablet'], files: { 'v/film.mkv': 'film' } });
    await fx.run('get', 'v/film.mkv');
    const st = await fx.run('move', 'v/film.mkv', { args: { to: ['laptop', 'tablet'] }, id: 'move-film-0001' });
    expect(st).toMatchObject({ state: 'running', reason: 'waiting for laptop and tablet to hold the file; it stays on phone until then', result: { to: ['laptop', 'tablet'], leaving: 1 } });
    expect(exists(fx.dev('phone', 'v/film.mkv'))).toBe(true);
    for (const d of ['laptop', 'tablet']) expect(ino(fx.dev(d, 'v/film.mkv'))).toBe(ino(fx.files('v/film.mkv')));
    expect(fx.r.store.moveWaits.get('move-film-0001')).toMatchObject({ state: 'waiting', source: 'phone', targets: '["laptop","tablet"]', files: '["v/film.mkv"]' });
    // The same id again answers with the waiting state at once, and runs nothing twice.
    expect(await fx.run('move', 'v/film.mkv', { args: { to: ['laptop', 'tablet'] }, id: 'move-film-0001' })).toMatchObject({ state: 'running' });

    const fin = await fx.proc.submit({ id: 'movefin-move-film-0001', device: 'phone', action: 'move-finish', path: 'v/film.mkv', args: { requestId: 'move-film-0001' } }, 'auto').done;
    expect(fin).toMatchObject({ state: 'done', result: { removed: 1 } });
    expect(exists(fx.dev('phone', 'v/film.mkv'))).toBe(false);
    expect(fx.proc.status('move-film-0001')).toMatchObject({ state: 'done', result: { to: ['laptop', 'tablet'], removed: 1, removedFrom: 'phone' } });
    expect(fx.r.store.moveWaits.get('move-film-0001')?.state).toBe('done');
  });

  it('moves a folder subscription along once the move finishes', async () => {
    fx = await makeFixture({ files: { 'm/a.mp3': 'a' } });
    await fx.run('get', 'm');
    await fx.run('move', 'm', { args: { to: ['laptop'] }, id: 'move-m-000001' });
    expect(fx.proc.subscriptions.list()).toEqual([{ device: 'laptop', path: 'm' }, { device: 'phone', path: 'm' }]);
    await fx.proc.submit({ id: 'movefin-move-m-000001', device: 'phone', action: 'move-finish', path: 'm', args: { requestId: 'move-m-000001' } }, 'auto').done;
    expect(fx.proc.subscriptions.list()).toEqual([{ device: 'laptop', path: 'm' }]);
    expect(exists(fx.dev('phone', 'm'))).toBe(false);
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
