/**
 * The catalogue's buttons reach the request processor over HTTP: a real NAS (startNas), the
 * published catalogue page in headless Chromium, clicks in the menu and dialogs, and the
 * resulting hard links on disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import { launchBrowser } from '../helpers/browser.js';
import { tempDir, waitFor, writeFiles } from '../helpers/tmp.js';
import { watchedPage, loaded, row } from '../catalogue/page-harness.js';
import type { RequestStatus } from '../../server/src/nas-context.js';
import { loginPage, ownerFetch } from '../helpers/nas-auth.js';
import net from 'node:net';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const t = tempDir('burrow-buttons-');
const root = path.join(t.dir, 'nas');
let nas: RunningNas;
let browser: Browser;

beforeAll(async () => {
  initRoot(root);
  const r = openRoot(root);
  addDevice(r, 'phone', null);
  addDevice(r, 'laptop', null);
  writeFiles(r.layout.files, { 'docs/report.txt': 'report', 'docs/old.txt': 'old', 'music/song.mp3': 'song', 'music/silence.mp3': '' });
  r.close();
  // The torrent listener on 127.0.0.1 and a port of its own, not the default 0.0.0.0:7425.
  const cfg = path.join(root, '.burrow/config.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('  host: 0.0.0.0\n  port: 7425', `  host: 127.0.0.1\n  port: ${await freePort()}`));
  nas = await startNas(root, { port: 0, host: '127.0.0.1', watch: false, hash: false });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await nas?.stop();
  t.cleanup();
});

async function lastRequest(action: string): Promise<RequestStatus> {
  const list = (await (await ownerFetch(root, `${nas.url}/api/requests?device=phone&limit=50`)).json()) as RequestStatus[];
  return list.find((s) => s.action === action)!;
}

describe('catalogue buttons → POST /api/requests → links', () => {
  it('[get], [create folder] and [destroy] clicked in Chromium change the disk through the processor', async () => {
    const { page, problems } = await watchedPage(browser);
    await loginPage(page, nas.url, root);
    await page.goto(`${nas.url}/catalogue/catalogue.html?device=phone`);
    await loaded(page);
    await (await row(page, 'docs')).locator('.tw').click();

    await (await row(page, 'docs/report.txt')).locator('.name').click();
    await page.locator('#menu [data-action="get"]').click();
    await page.locator('#dlg-confirm').click();
    const link = path.join(root, 'devices/phone/docs/report.txt');
    await waitFor(() => fs.existsSync(link), 10_000);
    expect(fs.statSync(link).ino).toBe(fs.statSync(path.join(root, 'files/docs/report.txt')).ino);
    await waitFor(async () => (await lastRequest('get'))?.state === 'done', 10_000);

    await (await row(page, 'docs')).locator('.name').click();
    await page.locator('#menu [data-action="mkdir"]').click();
    await page.locator('#dlg-name').fill('From the browser');
    await page.locator('#dlg-confirm').click();
    await waitFor(() => fs.existsSync(path.join(root, 'files/docs/From the browser')), 10_000);

    await (await row(page, 'docs/old.txt')).locator('.name').click();
    await page.locator('#menu [data-action="destroy"]').click();
    await page.locator('#dlg-confirm').click();
    await waitFor(() => !fs.existsSync(path.join(root, 'files/docs/old.txt')), 10_000);
    const destroyed = await lastRequest('destroy');
    expect(destroyed.state).toBe('done');
    const trashId = (destroyed.result as { trashId: string }).trashId;
    expect(fs.readFileSync(path.join(root, '.burrow/trash', trashId, 'payload/old.txt'), 'utf8')).toBe('old');

    // [create torrent] answers with a dialog offering the .torrent the NAS now serves, and the magnet link.
    await (await row(page, 'music')).locator('.tw').click();
    await (await row(page, 'music/song.mp3')).locator('.name').click();
    await page.locator('#menu [data-action="torrent"]').click();
    await page.locator('#dlg-confirm').click();
    await waitFor(async () => (await lastRequest('torrent'))?.state === 'done', 10_000);
    const made = (await lastRequest('torrent')).result as { torrentUrl: string; magnet: string };
    await page.locator('#dlg-body a.torrent-file').waitFor({ timeout: 10_000 });
    expect(await page.locator('#dlg-body a.torrent-file').getAttribute('href')).toBe(made.torrentUrl);
    expect(await page.locator('#dlg-body').textContent()).toContain(made.magnet);
    const dot = await fetch(made.torrentUrl);
    expect(dot.headers.get('content-type')).toBe('application/x-bittorrent');
    expect(Buffer.from(await dot.arrayBuffer()).subarray(0, 1).toString()).toBe('d');
    await page.locator('#dlg-cancel').click();

    // A refused request comes back with its reason, shown to the person who clicked.
    await (await row(page, 'music/silence.mp3')).locator('.name').click();
    await page.locator('#menu [data-action="torrent-once"]').click();
    await page.locator('#dlg-confirm').click();
    await waitFor(async () => (await lastRequest('torrent-once'))?.state === 'failed', 10_000);
    expect((await lastRequest('torrent-once')).reason).toMatch(/is empty \(0 bytes\)/);
    expect(problems).toEqual([]);
  });

  it('POST /api/requests validates the body by schema, and GET /api/requests/:id reports results', async () => {
    const bad = await ownerFetch(root, `${nas.url}/api/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'x', device: 'phone', action: 'get', path: 'a' }) });
    expect(bad.status).toBe(400);
    const unknownAction = await ownerFetch(root, `${nas.url}/api/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'http-test-0001', device: 'phone', action: 'nuke', path: 'a' }) });
    expect(unknownAction.status).toBe(400);
    const ok = await ownerFetch(root, `${nas.url}/api/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'http-test-0002', device: 'laptop', action: 'get', path: 'music' }) });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as RequestStatus).state).toBe('done');
    const got = (await (await ownerFetch(root, `${nas.url}/api/requests/http-test-0002`)).json()) as RequestStatus;
    expect(got).toMatchObject({ id: 'http-test-0002', device: 'laptop', action: 'get', path: 'music', state: 'done' });
    expect((await ownerFetch(root, `${nas.url}/api/requests/nope-nope-nope`)).status).toBe(404);
    const trick = await ownerFetch(root, `${nas.url}/api/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'http-test-0003', device: 'laptop', action: 'get', path: '../.burrow/burrow.db' }) });
    expect(((await trick.json()) as RequestStatus).reason).toMatch(/contains "\.\."/);
  });
});
