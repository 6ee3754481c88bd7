import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { makeFixture, addDevices, HOSTILE_NAMES, type Fixture } from './fixture.js';
import { expand, loaded, row, watchedPage } from './page-harness.js';
import { publishCatalogue } from '../../server/src/catalogue/publish.js';

let browser: Browser;
let f: Fixture;
let view: string;

/** How the page shows a name: control and bidi-control characters as visible ⟨U+XXXX⟩ markers. */
const shown = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/g, (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);

const EXTRA = [`<svg onload=alert(2)>`, `javascript:alert(3)`, `x" onmouseover="alert(4)`, `${'é'.repeat(126)}.t`];

beforeAll(async () => {
  f = makeFixture();
  addDevices(f, 'phone');
  for (const h of [...HOSTILE_NAMES, ...EXTRA]) {
    f.write(`evil/${h}`, 'boo');
    f.write(h.includes('/') ? `top-${h.replaceAll('/', '_')}` : h, 'boo');
  }
  f.write('evil/<b>dir</b>'.replaceAll('/', '_') + '/inner.txt', 'x');
  f.link('evil/<img src=x onerror=alert(1)>.jpg', 'phone');
  // The spec's store, as a phone sees it.
  for (const p of ['Photos/2013/holiday/beach-1.jpg', 'Photos/2013/holiday/beach-2.jpg', 'Music/album/track 01.mp3', 'Documents/tax/2013 return.pdf', 'notes.txt']) f.write(p, p);
  f.link('notes.txt', 'phone');
  for (let i = 0; i < 620; i++) f.write(`big/f${String(i).padStart(4, '0')}.txt`, 'x');
  f.rescan();
  // The phone's request shard, as the request processor would report it.
  const now = Date.now();
  const requests = {
    recentForDevice: (d: string) =>
      d === 'phone'
        ? [
            { id: 'r2', device: d, action: 'delete', path: 'Music', state: 'pending' as const, createdAt: now, updatedAt: now },
            { id: 'r1', device: d, action: 'get', path: 'notes.txt', state: 'failed' as const, reason: 'no room on phone', createdAt: now - 5, updatedAt: now - 5 },
          ]
        : [],
  };
  publishCatalogue({ store: f.r.store, layout: f.r.layout, trashDays: 7, requests });
  view = pathToFileURL(f.deviceView('phone')).href;
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  f?.cleanup();
});

describe('hostile names', () => {
  test('render as text; no script from a name ever runs, in the tree, search, menu and dialogs', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(view);
    await loaded(page);
    await expand(page, 'evil');
    for (const h of [...HOSTILE_NAMES, ...EXTRA].filter((n) => !n.includes('/'))) {
      const r = await row(page, `evil/${h}`);
      expect(await r.locator('.name').textContent()).toBe(shown(h));
      expect(await r.locator('.open').getAttribute('href')).toBe(`../files/evil/${encodeURIComponent(h)}`);
    }
    // "</script>" in a name makes a folder: it shows as a folder, by its literal name.
    expect(await (await row(page, `evil/"'><script>alert(1)<`)).locator('.name').textContent()).toBe(`"'><script>alert(1)</`);
    await page.fill('#q', '<img');
    expect(await page.locator('.row .name').allTextContents()).toEqual(['<img src=x onerror=alert(1)>.jpg', 'evil/<img src=x onerror=alert(1)>.jpg']);
    await page.fill('#q', '');
    await expand(page, 'evil');
    const img = await row(page, 'evil/<img src=x onerror=alert(1)>.jpg');
    expect(await img.locator('.badge').allTextContents()).toEqual(['phone']);
    await img.locator('.name').click();
    expect(await page.locator('#menu .mtitle').textContent()).toBe('evil/<img src=x onerror=alert(1)>.jpg');
    await page.locator('#menu [data-action=destroy]').click();
    expect(await page.locator('#dlg-body .what').textContent()).toBe('evil/<img src=x onerror=alert(1)>.jpg');
    await page.locator('#dlg-cancel').click();
    const rtl = await row(page, 'evil/rtl\u202Egpj.exe');
    // Control and bidi characters are shown, not obeyed (issue 11).
    expect(await rtl.locator('.name').textContent()).toBe('rtl⟨U+202E⟩gpj.exe');
    await page.mouse.move(5, 5);
    for (const r of await page.locator('.row').all()) await r.hover();
    // Nothing from a name became markup.
    expect(await page.locator('#tree img, #tree svg, #tree script, #tree b, #tree iframe').count()).toBe(0);
    // Every script on the page is the page's own: inline, a data shard, device.js or the request shard.
    const srcs = await page.evaluate(() => Array.from(document.scripts).map((x) => x.getAttribute('src') ?? 'inline'));
    expect(srcs.filter((x) => !/^(inline|data\/(index|summary|c-[\w-]+)\.js|\.\.\/files\/\.burrow\/device\.js|devices\/phone\.js|http:\/\/127\.0\.0\.1:7422\/agent\.js)$/.test(x))).toEqual([]);
    expect(srcs.filter((x) => x === 'inline')).toHaveLength(3);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  test('the CSP forbids everything but the page, its shards and the local API', async () => {
    const html = fs.readFileSync(path.join(f.r.layout.catalogue, 'catalogue.html'), 'utf8');
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!.replaceAll('&#39;', "'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:7422 http://localhost:7422");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain(':*');
    expect(csp).not.toContain('unsafe-eval');
    // Enforced, not just written: an inline fetch elsewhere is refused.
    const { page } = await watchedPage(browser);
    await page.goto(view);
    await loaded(page);
    const blocked = await page.evaluate(() => fetch('https://example.com/').then(() => 'fetched', (e: Error) => e.name));
    expect(blocked).toBe('TypeError');
    await page.context().close();
  });
});

describe('state and size', () => {
  test('pending and failed requests from the device\'s request shard show on their rows', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(view);
    await loaded(page);
    await expect.poll(async () => (await row(page, 'notes.txt')).locator('.state').textContent()).toBe('get: failed (no room on phone)');
    expect(await (await row(page, 'notes.txt')).locator('.state').getAttribute('class')).toBe('state failed');
    expect(await (await row(page, 'Music')).locator('.state').textContent()).toBe('delete: pending');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  test('a folder with many children draws 500 rows, then more on request', async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(view);
    await loaded(page);
    await expand(page, 'big');
    const inBig = () => page.locator('.row').evaluateAll((rs) => rs.filter((r) => (r as HTMLElement).dataset.path!.startsWith('big/')).length);
    expect(await inBig()).toBe(500);
    await page.getByText('show 120 more (120 not shown)').click();
    expect(await inBig()).toBe(620);
    // Search draws its first 50 matches, then more on request, and says when it stopped at 200.
    await page.fill('#q', 'big/f0');
    expect(await inBig()).toBe(50);
    expect(await page.locator('#tree > p.meta').first().textContent()).toMatch(/^First 200 matches/);
    await page.getByText('show 50 more matches').click();
    expect(await inBig()).toBe(100);
    await page.fill('#q', 'big/f000');
    expect(await inBig()).toBe(10);
    expect(await page.locator('#tree > p.meta').first().textContent()).toMatch(/^10 matches/);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

describe('on a phone', () => {
  test('390x844: everything tappable is at least 44 px, nothing scrolls sideways; screenshot kept', async () => {
    const { page, problems } = await watchedPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await page.goto(view);
    await loaded(page);
    await expand(page, 'Photos');
    await expand(page, 'Photos/2013');
    await expand(page, 'Photos/2013/holiday');
    const small = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('.row button:not(.leaf), .row a, #q, #device'))
        .filter((e) => e.offsetParent !== null)
        .map((e) => ({ t: e.textContent, r: e.getBoundingClientRect() }))
        .filter((x) => x.r.height < 44 || x.r.width < 44)
        .map((x) => `${x.t} ${x.r.width}x${x.r.height}`),
    );
    expect(small).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    fs.mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/catalogue-phone.png', fullPage: false });
    await (await row(page, 'Photos/2013/holiday/beach-1.jpg')).locator('.name').tap();
    const items = await page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('#menu [role=menuitem]')).map((e) => e.getBoundingClientRect().height));
    expect(Math.min(...items)).toBeGreaterThanOrEqual(44);
    await page.screenshot({ path: 'test-artifacts/catalogue-phone-menu.png' });
    await page.locator('#menu [data-action=destroy]').tap();
    const box = (await page.locator('#dlg-confirm').boundingBox())!;
    expect(box.width).toBeGreaterThan(300);
    expect(box.height).toBeGreaterThanOrEqual(64);
    await page.screenshot({ path: 'test-artifacts/catalogue-phone-confirm.png' });
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
