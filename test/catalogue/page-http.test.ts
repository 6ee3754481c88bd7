import fs from 'node:fs';
import type { Browser, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { makeFixture, addDevices, type Fixture } from './fixture.js';
import { boldness, expand, loaded, row, watchedPage } from './page-harness.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import type { CatalogueService } from '../../server/src/catalogue/service.js';
import { loginPage, ownerHeaders } from '../helpers/nas-auth.js';

let browser: Browser;
let f: Fixture;
let nas: RunningNas;

beforeAll(async () => {
  f = makeFixture();
  addDevices(f, 'a', 'b');
  f.write('x', 'hello');
  f.write('music/song.mp3', 'la la');
  f.link('x', 'a');
  f.r.close();
  nas = await startNas(f.root, { port: 0, watch: false, hash: false });
  await (nas.ctx.services.get('catalogue') as CatalogueService).publishNow();
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await nas?.stop();
  f?.cleanup();
});

describe('the catalogue served by a running NAS', () => {
  test('the server names the device (?device=): a sees [open] bold, b sees [get] bold', async () => {
    for (const [dev, want] of [
      ['a', { get: false, open: true }],
      ['b', { get: true, open: false }],
    ] as const) {
      const { page, problems } = await watchedPage(browser);
      await loginPage(page, nas.url, f.root);
      await page.goto(`${nas.url}/catalogue/catalogue.html?device=${dev}`);
      await loaded(page);
      expect(await page.locator('#device').textContent()).toBe(`device: ${dev}`);
      expect(await boldness(page, 'x')).toEqual(want);
      expect(await page.locator('#agent').isHidden()).toBe(true);
      expect(problems).toEqual([]);
      await page.context().close();
    }
  });

  test('with no device named, it asks once and remembers the answer', async () => {
    const { page, problems } = await watchedPage(browser);
    await loginPage(page, nas.url, f.root);
    await page.goto(`${nas.url}/catalogue/catalogue.html`);
    await loaded(page);
    await expect.poll(() => page.locator('#dlg-title').textContent()).toBe('Which device is this?');
    await page.locator('#dlg-body input[value=b]').check();
    await page.locator('#dlg-confirm').click();
    await expect.poll(() => page.locator('#device').textContent()).toBe('device: b');
    // The page may be redrawing (or reloading itself for a fresh catalogue) right then: wait for the row.
    await expect.poll(() => boldness(page, 'x').catch(() => null)).toEqual({ get: true, open: false });
    await page.reload();
    await loaded(page);
    await expect.poll(() => page.locator('#device').textContent()).toBe('device: b');
    expect(await page.locator('#veil').isHidden()).toBe(true);
    expect(problems, problems.join('\n')).toEqual([]);
    await page.context().close();
  });

  test('an action posts to the NAS API of the page\'s own origin and shows the state it polls', async () => {
    const { page, problems } = await watchedPage(browser);
    await loginPage(page, nas.url, f.root);
    const posted: unknown[] = [];
    const csrf: Array<string | undefined> = [];
    let state = 'running';
    await page.route('**/api/requests', async (route: Route) => {
      posted.push(route.request().postDataJSON());
      csrf.push(route.request().headers()['x-csrf-token']);
      await route.fulfill({ status: 202, contentType: 'application/json', body: JSON.stringify({ id: (route.request().postDataJSON() as { id: string }).id, state: 'pending' }) });
    });
    await page.route('**/api/requests/*', async (route: Route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ id: route.request().url().split('/').pop(), state, reason: state === 'failed' ? 'device b is full' : undefined }) }),
    );
    await page.goto(`${nas.url}/catalogue/catalogue.html?device=b`);
    await loaded(page);
    await expand(page, 'music');
    await (await row(page, 'music/song.mp3')).locator('.get').click(); // [get] on the row asks too
    expect(await page.locator('#dlg-title').textContent()).toBe('Get onto b?');
    await page.locator('#dlg-confirm').click();
    await expect.poll(() => posted.length).toBe(1);
    expect(posted[0]).toMatchObject({ device: 'b', action: 'get', path: 'music/song.mp3', args: {}, confirm: true });
    expect(csrf[0], 'the logged-in page sends its CSRF token').toMatch(/\S{20,}/);
    expect(new URL(page.url()).origin).toBe(nas.url);
    await expect.poll(async () => (await row(page, 'music/song.mp3')).locator('.state').textContent()).toBe('get: running');
    state = 'failed';
    await expect.poll(async () => (await row(page, 'music/song.mp3')).locator('.state').textContent(), { timeout: 8000 }).toBe('get: failed (device b is full)');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  test('a change on disk reaches an open page on reload, through the running publisher', async () => {
    const { page } = await watchedPage(browser);
    await loginPage(page, nas.url, f.root);
    await page.goto(`${nas.url}/catalogue/catalogue.html?device=a`);
    await loaded(page);
    expect(await page.locator('.row').count()).toBe(2);
    fs.writeFileSync(`${nas.ctx.layout.files}/new-file.txt`, 'new');
    nas.ctx.indexer.refresh([`${nas.ctx.layout.files}/new-file.txt`]);
    await (nas.ctx.services.get('catalogue') as CatalogueService).publishNow();
    await page.reload();
    await loaded(page);
    expect(await page.locator('.row').evaluateAll((rs) => rs.map((r) => (r as HTMLElement).dataset.path))).toEqual(['music', 'new-file.txt', 'x']);
    await page.context().close();
  });

  test('a publish between the page loading its data and its live script still reloads the page', async () => {
    // The owner's API token instead of a login: the tests above used the five logins a minute allows.
    const { page } = await watchedPage(browser, { extraHTTPHeaders: ownerHeaders(f.root, false) });
    // The live script (/agent.js) loads after the data; a publish lands just before it.
    let published = false;
    await page.route('**/agent.js', async (route) => {
      if (!published) {
        published = true;
        fs.writeFileSync(`${nas.ctx.layout.files}/landed-meanwhile.txt`, 'new');
        nas.ctx.indexer.refresh([`${nas.ctx.layout.files}/landed-meanwhile.txt`]);
        await (nas.ctx.services.get('catalogue') as CatalogueService).publishNow();
      }
      await route.continue();
    });
    let loads = 0;
    page.on('load', () => loads++);
    await page.goto(`${nas.url}/catalogue/catalogue.html?device=a`);
    await loaded(page);
    // Its data/index.js and summary.js were the old ones: it must reload itself once. Before, it
    // took the version from its first poll, already the new one, and never reloaded.
    await expect.poll(() => loads, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await loaded(page);
    await page.locator('.row[data-path="landed-meanwhile.txt"]').waitFor({ state: 'attached', timeout: 10_000 });
    await page.context().close();
  });
});
