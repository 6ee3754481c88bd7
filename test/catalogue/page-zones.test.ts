import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { makeFixture, addDevices, type Fixture } from './fixture.js';
import { loaded, row, watchedPage } from './page-harness.js';
import { PlacementRepo } from '../../server/src/store/placement-repo.js';

/**
 * Several NAS: the catalogue shows which network zones hold each top-level folder, and warns
 * when files sit in fewer zones than the group requires (issue 15). The zones come from the
 * cluster service's placement table; in no group, the page shows none.
 */
let browser: Browser;
let f: Fixture;

const SHY = '<img src=x onerror=alert(1)> "q"';

beforeAll(async () => {
  f = makeFixture('burrow-cat-zones-');
  addDevices(f, 'phone');
  for (const p of ['Photos/2024/a.jpg', `${SHY}/a.txt`, '__proto__/b.txt', 'notes.txt']) f.write(p, p);
  f.rescan();
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  f?.cleanup();
});

async function badges(view: string): Promise<{ rows: Record<string, Array<{ text: string; few: boolean }>>; warning: string | null; problems: string[] }> {
  const { page, problems } = await watchedPage(browser);
  await page.goto(view);
  await loaded(page);
  const rows: Record<string, Array<{ text: string; few: boolean }>> = {};
  for (const p of ['Photos', SHY, '__proto__', 'notes.txt']) {
    const r = await row(page, p);
    rows[p] = await r.locator('.badge.zone').evaluateAll((els) => els.map((e) => ({ text: e.textContent ?? '', few: e.classList.contains('few') })));
  }
  const warning = await page.locator('.zone-warn').textContent({ timeout: 500 }).catch(() => null);
  await page.context().close();
  return { rows, warning, problems };
}

describe('zones in the catalogue', () => {
  test('each top-level folder names the zones holding all of it; files in too few zones are warned about; hostile names stay text', async () => {
    const repo = new PlacementRepo(f.r.store.db);
    repo.replace(
      { computedAt: Date.now(), required: 2, files: 4, under: 1, samples: [`${SHY}/a.txt`], members: [] },
      [
        { path: '', files: 4, bytes: 40, zones: ['home'], under: 1 },
        { path: 'Photos', files: 1, bytes: 10, zones: ['home', 'parents'], under: 0 },
        { path: SHY, files: 1, bytes: 10, zones: ['home'], under: 1 },
        { path: '__proto__', files: 1, bytes: 10, zones: ['home', 'parents'], under: 0 },
      ],
    );
    f.publish();
    const view = pathToFileURL(f.deviceView('phone')).href;
    const got = await badges(view);
    expect(got.problems).toEqual([]);
    expect(got.rows['Photos']).toEqual([{ text: 'zones home, parents', few: false }]);
    expect(got.rows[SHY]).toEqual([{ text: 'zone home', few: true }]);
    expect(got.rows['__proto__']).toEqual([{ text: 'zones home, parents', few: false }]);
    expect(got.rows['notes.txt']).toEqual([]); // files carry no zone badge; the warning names them
    expect(got.warning).toBe(`1 file is kept in fewer than 2 network zones (for example ${SHY}/a.txt): if that zone is cut off, they cannot be fetched until it is back.`);

    // In no group (no placement worked out), no zones at all.
    repo.clear();
    f.publish();
    const none = await badges(pathToFileURL(f.deviceView('phone')).href);
    expect(Object.values(none.rows).flat()).toEqual([]);
    expect(none.warning).toBeNull();
  }, 60_000);
});
