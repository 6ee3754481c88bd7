/**
 * The NAS's own catalogue page in headless Chromium against a real in-process NAS (request
 * processor, publisher, sync engine on loopback): it refreshes itself when a request ends, every
 * menu entry it shows works, [share] shows the read-only secret, and [open] explains itself.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import { launchBrowser } from '../helpers/browser.js';
import { loginPage, ownerFetch } from '../helpers/nas-auth.js';
import { tempDir, waitFor, writeFiles } from '../helpers/tmp.js';
import { loopbackConfig } from '../helpers/config.js';
import { watchedPage, loaded, row, expand } from '../catalogue/page-harness.js';
import type { RequestStatus } from '../../server/src/nas-context.js';

const t = tempDir('burrow-nas-page-');
const root = path.join(t.dir, 'nas');
let nas: RunningNas;
let browser: Browser;

beforeAll(async () => {
  initRoot(root);
  loopbackConfig(root, [[/^( {2}debounceMs:) 100$/m, '$1 50']]);
  const r = openRoot(root);
  addDevice(r, 'phone', null);
  writeFiles(r.layout.files, { 'docs/report.txt': 'report', 'docs/inner/x.txt': 'x', 'music/song.mp3': 'song' });
  r.close();
  nas = await startNas(root, { port: 0, host: '127.0.0.1', watch: false, hash: false });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await nas?.stop();
  t.cleanup();
});

async function post(body: Record<string, unknown>): Promise<RequestStatus> {
  const res = await ownerFetch(root, `${nas.url}/api/requests`, { method: 'POST', body: JSON.stringify({ device: 'phone', args: {}, ...body }) });
  return (await res.json()) as RequestStatus;
}

/** Does the row for this path show this element? False while the page is reloading. */
async function shows(page: import('playwright-core').Page, p: string, sel: string): Promise<boolean> {
  try {
    return await page.evaluate(
      ([want, s]) => document.documentElement.hasAttribute('data-loaded') && Array.from(document.querySelectorAll<HTMLElement>('.row')).some((r) => r.dataset.path === want && !!r.querySelector(s!)),
      [p, sel],
    );
  } catch {
    return false;
  }
}

describe('the NAS page', () => {
  it('shows the secret after [share], refreshes itself when a request ends, and its menus only offer what works', async () => {
    const { page, problems } = await watchedPage(browser);
    await loginPage(page, nas.url, root);
    await page.goto(`${nas.url}/catalogue/catalogue.html?device=phone`);
    await loaded(page);
    await expand(page, 'docs');

    // [share] → the read-only secret as text and QR code, and the command a friend runs.
    await (await row(page, 'docs/report.txt')).locator('.name').click();
    await page.locator('#menu [data-action="share"]').click();
    await page.locator('#dlg-confirm').click();
    await page.locator('#friend-secret').waitFor({ timeout: 15_000 });
    const secret = (await page.locator('#friend-secret').textContent())!;
    expect(secret).toMatch(/^B/);
    expect(await page.locator('#friend-command').textContent()).toBe(`burrow sync --secret ${secret} --dir ./report`);
    expect(await page.locator('#friend-qr').evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);
    const shares = (await (await ownerFetch(root, `${nas.url}/api/shares`)).json()) as Array<{ id: string }>;
    expect(JSON.stringify(await (await ownerFetch(root, `${nas.url}/api/requests?device=phone`)).json())).not.toContain('"readWrite"');
    expect(shares).toHaveLength(1);
    // The page reloads itself once the catalogue shows the share (no reload from the test), keeping docs/ open.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
    await page.locator('#dlg-cancel').click();
    await waitFor(() => shows(page, 'docs/report.txt', '.badge.share'), 15_000);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBeUndefined();

    // Something inside docs/ is shared: docs/ offers [share folder], not a [revoke share] that would fail.
    await (await row(page, 'docs')).locator('.name').click();
    const docsMenu = await page.locator('#menu [role=menuitem]').allTextContents();
    expect(docsMenu).toContain('[share folder]');
    expect(docsMenu).not.toContain('[revoke share]');
    expect(docsMenu).not.toContain('[revoke]');
    await page.keyboard.press('Escape');

    // A read-only folder share: its menu offers [revoke], and it works.
    const ro = await post({ id: 'share-music-0001', action: 'share', path: 'music' });
    expect(ro.state, ro.reason).toBe('done');
    await waitFor(() => shows(page, 'music', '.badge.share'), 20_000);
    await (await row(page, 'music')).locator('.name').click();
    expect(await page.locator('#menu [role=menuitem]').allTextContents()).toContain('[revoke]');
    await page.locator('#menu [data-action="revoke"]').click();
    await page.locator('#dlg-confirm').click();
    await waitFor(async () => (await (await row(page, 'music')).locator('.state').textContent()) === 'revoke: done', 15_000);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('[open] on the NAS page leads to a page that says what to do, not a JSON 404', async () => {
    const res = await ownerFetch(root, `${nas.url}/files/docs/report.txt`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('opens the copy on the device you are using');
    expect(html).toContain('open the catalogue from the Burrow agent on your device');
    expect((await ownerFetch(root, `${nas.url}/files/docs/`)).headers.get('content-type')).toMatch(/text\/html/);
  });
});
