/**
 * The agent's page in headless Chromium, with a real NAS and a real agent on 127.0.0.1: folder
 * rows are as live as file rows, what this device let go never shows "syncing", folder [open]
 * lists the local folder, and [share] shows the read-only secret to the device that made it.
 * The search box keeps the page busy, so nothing here relies on the page reloading itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { addDevice, startAgent, startNas, stopProc, tempRoot, waitFor, type AgentHandle, type NasHandle } from '../agent/harness.js';

let base: string;
let nas: NasHandle;
let A: AgentHandle;
let browser: Browser;

const row = (rel: string) => `#tree .row[data-path="${rel}"]`;

async function openPage(query: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(A.url);
  await page.waitForFunction(() => document.documentElement.hasAttribute('data-loaded') && /device: alpha/.test(document.getElementById('device')?.textContent ?? ''), null, { timeout: 45_000 });
  await page.fill('#q', query); // busy: the page will not reload itself
  return page;
}

async function act(page: Page, rel: string, action: string): Promise<void> {
  await page.click(`${row(rel)} .name`);
  await page.click(`#menu [data-action="${action}"]`);
  await page.click('#dlg-confirm');
}

beforeAll(async () => {
  base = tempRoot('burrow-states-agent-');
  const nasRoot = path.join(base, 'nas');
  fs.mkdirSync(path.join(nasRoot, 'files', 'photos'), { recursive: true });
  fs.writeFileSync(path.join(nasRoot, 'files', 'photos', 'p1.jpg'), 'one');
  fs.writeFileSync(path.join(nasRoot, 'files', 'photos', 'p2.jpg'), 'two');
  fs.writeFileSync(path.join(nasRoot, 'files', 'give.txt'), 'for a friend');
  nas = await startNas(nasRoot);
  A = await startAgent(path.join(base, 'alpha'), addDevice(nas.root, 'alpha'));
  await waitFor('catalogue synced', () => fs.existsSync(path.join(A.root, 'files', '.burrow', 'device.js')) && fs.readFileSync(path.join(A.root, 'catalogue', 'data', 'summary.js'), 'utf8').includes('"files":3'));
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stopProc(A);
  await stopProc(nas);
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe("the agent's page tells the truth without a reload", () => {
  it('a folder get turns the folder row to [open] bold; folder [open] lists what is here', async () => {
    const page = await openPage('photos');
    await page.waitForSelector(`${row('photos')} .lnk.get.strong`);
    await act(page, 'photos', 'get');
    await waitFor('photos here', () => fs.existsSync(path.join(A.root, 'files', 'photos', 'p2.jpg')));
    await page.waitForSelector(`${row('photos')} .lnk.open.strong`, { timeout: 15_000 });
    expect(await page.$(`${row('photos')} .lnk.get.strong`)).toBeNull();
    expect(await page.getAttribute(`${row('photos')} .lnk.open`, 'href')).toBe('../files/photos/');

    const listing = await fetch(`${A.url.replace(/\/$/, '')}/files/photos/`);
    expect(listing.status).toBe(200);
    expect(listing.headers.get('content-type')).toMatch(/text\/html/);
    const html = await listing.text();
    expect(html).toContain('href="/files/photos/p1.jpg"');
    expect(html).toContain('href="/files/photos/p2.jpg"');
    const absent = await fetch(`${A.url.replace(/\/$/, '')}/files/give.txt`);
    expect(absent.status).toBe(404);
    expect(await absent.text()).toContain('use [get] on it to bring it here');
    await page.close();
  });

  it('a file this device deleted shows [get], never "syncing to this device"', async () => {
    const page = await openPage('photos'); // loaded after the get: the catalogue says alpha holds p1
    await page.waitForSelector(`${row('photos/p1.jpg')} .lnk.open.strong`, { timeout: 15_000 });
    await act(page, 'photos/p1.jpg', 'delete');
    await waitFor('p1 gone from alpha', () => !fs.existsSync(path.join(A.root, 'files', 'photos', 'p1.jpg')));
    await page.waitForSelector(`${row('photos/p1.jpg')} .lnk.get.strong`, { timeout: 15_000 });
    expect(await page.$$eval(`${row('photos/p1.jpg')} .agent-sync`, (e) => e.map((x) => x.textContent))).toEqual([]);
    await page.close();
  });

  it('[share] shows the read-only secret, its QR code and the friend command to this device', async () => {
    const page = await openPage('give');
    await act(page, 'give.txt', 'share');
    await page.waitForSelector('#friend-secret', { timeout: 45_000 });
    const secret = (await page.textContent('#friend-secret'))!;
    expect(secret).toMatch(/^B/);
    expect(await page.textContent('#friend-command')).toBe(`burrow sync --secret ${secret} --dir ./give`);
    expect(await page.$eval('#friend-qr', (i) => (i as HTMLImageElement).naturalWidth > 0)).toBe(true);
    // Through this device's own folder only; plain /files/ reads do not hand it out.
    expect((await fetch(`${A.url.replace(/\/$/, '')}/files/.burrow/results/`)).status).toBe(404);
    await page.close();
  });
});
