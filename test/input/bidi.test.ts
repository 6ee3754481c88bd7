import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { addDevices, makeFixture, type Fixture } from '../catalogue/fixture.js';
import { expand, loaded, row } from '../catalogue/page-harness.js';
import { REPO } from '../agent/harness.js';

/**
 * Issue 11, item 11: a name holding U+202E (RIGHT-TO-LEFT OVERRIDE) showed as "evilexe.jpg".
 * In real Chromium, the catalogue and the admin UI show such characters as visible ⟨U+XXXX⟩
 * markers and keep each name bidi-isolated.
 */
const SPOOF = 'evil\u202Egpj.exe';
const BELL = 'ring\u0007the\u200Fbell.txt';
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/;

let browser: Browser;
let f: Fixture;

beforeAll(async () => {
  f = makeFixture('burrow-bidi-');
  addDevices(f, 'phone');
  f.write(`docs/${SPOOF}`, 'not a picture');
  f.write(`docs/${BELL}`, 'ding');
  f.rescan();
  f.publish();
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  f?.cleanup();
});

/** Every text node under `sel` (but the markup's own line breaks) that holds a raw control or bidi-control character. */
const rawControls = (page: Page, sel: string) =>
  page.evaluate(
    ([s, re]) => {
      const found: string[] = [];
      const w = document.createTreeWalker(document.querySelector(s)!, NodeFilter.SHOW_TEXT);
      for (let n = w.nextNode(); n; n = w.nextNode()) if ((n.nodeValue ?? '').trim() !== '' && new RegExp(re).test(n.nodeValue ?? '')) found.push(JSON.stringify(n.nodeValue));
      return found;
    },
    [sel, HIDDEN.source] as const,
  );

/** Left edge (px) of the first occurrence of `part` inside the element's text, as laid out. */
const xOf = (page: Page, sel: string, part: string) =>
  page.locator(sel).evaluate((e, p) => {
    const w = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
    for (let n = w.nextNode(); n; n = w.nextNode()) {
      const i = (n.nodeValue ?? '').indexOf(p);
      if (i < 0) continue;
      const r = document.createRange();
      r.setStart(n, i);
      r.setEnd(n, i + p.length);
      return r.getBoundingClientRect().left;
    }
    return NaN;
  }, part);

describe('names with control and bidi characters', () => {
  it('the catalogue shows them visibly, in order, and isolated: in the tree, the menu and dialogs', async () => {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(f.deviceView('phone')).href);
    await loaded(page);
    await expand(page, 'docs');
    const spoof = await row(page, `docs/${SPOOF}`);
    expect(await spoof.locator('.name').textContent()).toBe('evil⟨U+202E⟩gpj.exe');
    expect(await (await row(page, `docs/${BELL}`)).locator('.name').textContent()).toBe('ring⟨U+0007⟩the⟨U+200F⟩bell.txt');
    expect(await spoof.locator('.name').evaluate((e) => getComputedStyle(e).unicodeBidi)).toBe('isolate');
    // As laid out: "exe" really is at the end, to the right of "gpj" (the override would put it first).
    const sel = `.row[data-i="${await spoof.getAttribute('data-i')}"] .name`;
    expect(await xOf(page, sel, 'exe')).toBeGreaterThan(await xOf(page, sel, 'gpj'));
    expect(await xOf(page, sel, 'gpj')).toBeGreaterThan(await xOf(page, sel, 'evil'));
    expect(await rawControls(page, '#tree')).toEqual([]);
    await spoof.locator('.name').click();
    expect(await page.locator('#menu .mtitle').textContent()).toBe('docs/evil⟨U+202E⟩gpj.exe');
    expect(await rawControls(page, '#menu')).toEqual([]);
    await page.locator('#menu [data-action=destroy]').click();
    expect(await page.locator('#dlg-body .what').textContent()).toBe('docs/evil⟨U+202E⟩gpj.exe');
    expect(await page.locator('#dlg-body .what').evaluate((e) => getComputedStyle(e).unicodeBidi)).toBe('isolate');
    expect(await rawControls(page, '#dialog')).toEqual([]);
    await page.fill('#q', 'gpj');
    await page.keyboard.press('Escape');
    await page.close();
  });

  it('the admin UI shows them visibly and isolated', async () => {
    // The admin page as served, over a stand-in API that answers with hostile names (the page's
    // rendering is what is tested here, not the NAS API).
    const app: FastifyInstance = Fastify();
    const web = path.join(REPO, 'web');
    app.get('/', async (_q, r) => r.type('text/html').send(fs.readFileSync(path.join(web, 'index.html'))));
    app.get('/admin/admin.js', async (_q, r) => r.type('text/javascript').send(fs.readFileSync(path.join(web, 'admin.js'))));
    app.get('/admin/format-bytes.js', async (_q, r) => r.type('text/javascript').send(fs.readFileSync(path.join(web, 'format-bytes.js'))));
    app.get('/admin/admin.css', async (_q, r) => r.type('text/css').send(fs.readFileSync(path.join(web, 'admin.css'))));
    app.get('/api/status', async () => ({ files: 2, folders: 1, bytes: 10, hash: { hashedFiles: 0, totalFiles: 2, percent: 0 }, hashing: false, devices: [] }));
    app.get('/api/admin/devices', async () => [{ name: 'phone', files: 1, bytes: 4, quotaBytes: null, online: false, lastContact: null, pinned: [] }]);
    app.get('/api/admin/shares', async () => [{ id: 'c191-2026-01-02-030405', path: `docs/${SPOOF}`, createdAt: Date.now(), readOnlySecret: 'B' + 'A'.repeat(32) }]);
    app.get('/api/jobs', async () => [{ job: 'dedupe', startedAt: Date.now(), summary: `kept docs/${BELL}` }]);
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const page = await browser.newPage();
    try {
      await page.goto(url + '/');
      await page.waitForSelector('#share-rows td');
      const cell = page.locator('#share-rows td').nth(1);
      expect(await cell.textContent()).toBe('docs/evil⟨U+202E⟩gpj.exe');
      expect(await cell.evaluate((e) => getComputedStyle(e).unicodeBidi)).toBe('isolate');
      expect(await page.locator('#job-rows td').nth(2).textContent()).toBe('kept docs/ring⟨U+0007⟩the⟨U+200F⟩bell.txt');
      expect(await rawControls(page, 'main')).toEqual([]);
    } finally {
      await page.close();
      await app.close();
    }
  });
});
