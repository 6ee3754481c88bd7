import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import { SyncEngine, parseConflictCopy } from '../../server/src/sync/index.js';
import type { NasFolderSync } from '../../server/src/nas-sync/service.js';
import type { ActivitySampler } from '../../server/src/nas-sync/activity-sampler.js';
import { launchBrowser } from '../helpers/browser.js';
import { tempDir, waitFor, writeFiles } from '../helpers/tmp.js';
import { loginPage, ownerFetch } from '../helpers/nas-auth.js';
import { burrow } from '../helpers/cli.js';

/**
 * Issue 14 in real Chromium against a real NAS and a real sync peer (an engine standing in for
 * the laptop's agent): pause and resume a device folder (the engine really stops), keep one side
 * of a real conflict, the sync-activity and availability charts against the database and
 * `burrow availability --json`, removing a device (the store keeps every file), the catalogue's
 * link back for the owner, and screenshots of every page, desktop and phone.
 */
const t = tempDir('burrow-admin-sync-');
const peerDir = tempDir('burrow-admin-peer-');
let nas: RunningNas;
let browser: Browser;
let page: Page;
let peer: SyncEngine;
const pageErrors: string[] = [];
const ART = 'test-artifacts';
const FOLDER = 'device:laptop';
const laptop = () => path.join(t.dir, 'devices/laptop');
const folderSync = () => nas.ctx.services.get('folder-sync') as NasFolderSync;
const sampler = () => nas.ctx.services.get('activity-sampler') as ActivitySampler;
const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined);

async function shoot(name: string): Promise<void> {
  for (const [kind, size] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
    await page.setViewportSize(size);
    await page.locator(`#${name}`).screenshot({ path: `${ART}/admin-${name}-${kind}.png` });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** The <g>/<rect> data attributes of an SVG the NAS draws. */
async function svgData(url: string, attr: RegExp): Promise<string[][]> {
  const svg = await (await ownerFetch(t.dir, url)).text();
  return [...svg.matchAll(attr)].map((m) => m.slice(1));
}

beforeAll(async () => {
  initRoot(t.dir);
  const cfg = path.join(t.dir, '.burrow/config.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('  host: 0.0.0.0\n  port: 7421', '  host: 127.0.0.1\n  port: 0'));
  writeFiles(path.join(t.dir, 'files'), { 'Music/a.mp3': 'aaaa', 'Docs/n.txt': 'notes' });
  const r = openRoot(t.dir);
  addDevice(r, 'laptop', 100);
  r.close();
  nas = await startNas(t.dir, { port: 0, host: '127.0.0.1' });
  await waitFor(() => folderSync().syncEngine?.listFolders().some((f) => f.id === FOLDER), 20_000);
  peer = new SyncEngine({ stateDir: path.join(peerDir.dir, 'state'), listen: { host: '127.0.0.1', port: 0 }, dialIntervalMs: 200, rescanIntervalMs: 0, watch: false });
  await peer.open();
  await peer.addFolder({ id: 'f', path: path.join(peerDir.dir, 'files'), secret: folderSync().secretsOf('device', 'laptop')!.readWrite, mode: 'send-receive', peers: [`127.0.0.1:${folderSync().port}`] });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => void d.accept());
  fs.mkdirSync(ART, { recursive: true });
  await loginPage(page, nas.url, t.dir);
  await page.goto(`${nas.url}/#sync`);
  await page.waitForSelector('#live[data-state="live"]');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await peer?.close();
  await nas?.stop();
  t.cleanup();
  peerDir.cleanup();
});

describe('admin UI: sync, conflicts, charts, removing a device', () => {
  it('pauses a device folder (nothing arrives from its peer) and resumes it (it arrives)', async () => {
    writeFiles(path.join(peerDir.dir, 'files'), { 'first.txt': 'first' });
    await peer.rescan('f');
    await waitFor(() => read(path.join(laptop(), 'first.txt')) === 'first', 30_000);
    // Its sync link is up, so the device counts as online even before its agent reports.
    await expect.poll(async () => ((await (await ownerFetch(t.dir, `${nas.url}/api/admin/devices`)).json()) as Array<{ online: boolean }>)[0]!.online, { timeout: 15_000 }).toBe(true);
    const row = page.locator('#sync-rows tr', { hasText: FOLDER });
    await row.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => row.innerText(), { timeout: 15_000 }).toMatch(/paused/);
    expect(folderSync().syncEngine!.isPaused(FOLDER)).toBe(true);
    await waitFor(() => peer.listPeers('f').length === 0, 15_000);

    writeFiles(path.join(peerDir.dir, 'files'), { 'while-paused.txt': 'sent while paused' });
    await peer.rescan('f');
    await new Promise((r) => setTimeout(r, 3000)); // many dial rounds (200 ms): none may connect
    expect(read(path.join(laptop(), 'while-paused.txt'))).toBeUndefined();
    expect(peer.listPeers('f')).toEqual([]);
    await shoot('sync');

    await row.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => row.innerText(), { timeout: 15_000 }).not.toMatch(/paused/);
    await waitFor(() => read(path.join(laptop(), 'while-paused.txt')) === 'sent while paused', 30_000);
    // The NAS adopts it into the store as usual.
    await waitFor(() => read(path.join(t.dir, 'files/while-paused.txt')) === 'sent while paused', 30_000);
  }, 120_000);

  it('shows a real conflict with both versions and keeps the one kept aside; the other goes to the trash', async () => {
    const nasEngine = folderSync().syncEngine!;
    writeFiles(path.join(peerDir.dir, 'files'), { 'conf.txt': 'base' });
    await peer.rescan('f');
    await waitFor(() => read(path.join(t.dir, 'files/conf.txt')) === 'base', 30_000);
    await nasEngine.pauseFolder(FOLDER);
    await peer.pauseFolder('f');
    const now = Date.now() / 1000;
    fs.writeFileSync(path.join(peerDir.dir, 'files/conf.txt'), 'edit on the laptop');
    fs.utimesSync(path.join(peerDir.dir, 'files/conf.txt'), now - 100, now - 100);
    // The NAS side: a new inode (never write into the store's linked copy).
    fs.writeFileSync(path.join(laptop(), '.conf.tmp'), 'edit on the NAS');
    fs.renameSync(path.join(laptop(), '.conf.tmp'), path.join(laptop(), 'conf.txt'));
    fs.utimesSync(path.join(laptop(), 'conf.txt'), now - 10, now - 10);
    await nasEngine.resumeFolder(FOLDER);
    await peer.resumeFolder('f');
    const row = page.locator('#conflict-rows tr', { hasText: 'conf.txt' });
    await row.waitFor({ timeout: 40_000 });
    const [c] = nasEngine.listConflicts(FOLDER);
    expect(c!.original?.size).toBe('edit on the NAS'.length);
    expect(c!.copy.size).toBe('edit on the laptop'.length);
    expect(await row.innerText()).toContain(`${'edit on the laptop'.length} B`);
    expect(await row.innerText()).toContain(`${'edit on the NAS'.length} B`);
    await shoot('sync');
    await row.getByRole('button', { name: 'Keep the one aside' }).click();
    await page.waitForFunction(() => !document.querySelector('#conflict-rows')?.textContent?.includes('conf.txt'), undefined, { timeout: 30_000 });
    // Both sides end with the kept version and no conflict copy.
    const copies = (dir: string) => fs.readdirSync(dir).filter((n) => parseConflictCopy(n));
    await waitFor(() => read(path.join(peerDir.dir, 'files/conf.txt')) === 'edit on the laptop' && copies(path.join(peerDir.dir, 'files')).length === 0, 40_000);
    expect(read(path.join(laptop(), 'conf.txt'))).toBe('edit on the laptop');
    expect(copies(laptop())).toEqual([]);
    // The version not kept is in the trash, whole.
    const trash = (await (await ownerFetch(t.dir, `${nas.url}/api/trash`)).json()) as Array<{ id: string; originalPath: string }>;
    const items = trash.filter((x) => x.originalPath === 'conf.txt');
    expect(items.length).toBeGreaterThan(0);
    const found: string[] = [];
    const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name !== 'meta.json' && found.push(fs.readFileSync(path.join(d, e.name), 'utf8'))));
    for (const item of items) walk(path.join(t.dir, '.burrow/trash', item.id));
    expect(found).toContain('edit on the NAS');
  }, 180_000);

  it('draws sync activity per minute and device availability from the database', async () => {
    sampler().sample();
    const rows = nas.ctx.store.db.prepare('SELECT minute, SUM(bytes_in) AS i, SUM(bytes_out) AS o FROM sync_activity GROUP BY minute ORDER BY minute').all() as Array<{ minute: number; i: number; o: number }>;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.reduce((a, r) => a + r.i, 0)).toBeGreaterThan(0);
    const drawn = await svgData(`${nas.url}/api/admin/charts/sync-activity.svg`, /data-minute="(\d+)" data-in="(\d+)" data-out="(\d+)"/g);
    expect(drawn.map(([m, i, o]) => ({ minute: Number(m), i: Number(i), o: Number(o) }))).toEqual(rows);
    // The engine's counters and the database agree: everything moved since the NAS started was sampled.
    const traffic = folderSync().syncEngine!.listFolders().reduce((a, f) => a + folderSync().syncEngine!.traffic(f.id).bytesIn, 0);
    expect(rows.reduce((a, r) => a + r.i, 0)).toBe(traffic);

    const cli = burrow(['availability', '--device', 'laptop', '--json', '--root', t.dir]);
    expect(cli.status, cli.stderr).toBe(0);
    const av = JSON.parse(cli.stdout) as { devices: Array<{ device: string; spans: Array<{ from: number; to: number }>; fraction: number }> };
    expect(av.devices[0]!.spans.length).toBeGreaterThan(0);
    const strips = await svgData(`${nas.url}/api/admin/charts/availability/laptop.svg`, /class="span" data-from="(\d+)" data-to="(\d+)"/g);
    const db = nas.ctx.store.db.prepare("SELECT from_at, to_at FROM device_availability WHERE device = 'laptop' ORDER BY from_at").all() as Array<{ from_at: number; to_at: number }>;
    expect(strips.map(([f, to]) => [Number(f), Number(to)])).toEqual(db.map((r) => [r.from_at, r.to_at]));
    expect(av.devices[0]!.spans.at(-1)!.to).toBe(db.at(-1)!.to_at);
    expect(burrow(['availability', '--device', 'nobody', '--root', t.dir]).stderr).toContain('nobody');

    await page.goto(`${nas.url}/#overview`);
    await page.waitForFunction(() => (document.getElementById('chart-sync-activity') as HTMLImageElement).naturalWidth > 0);
    await page.waitForFunction(() => [...document.querySelectorAll('#availability img')].every((i) => (i as HTMLImageElement).naturalWidth > 0) && document.querySelectorAll('#availability img').length === 1);
    await shoot('overview');
    await shoot('devices');
    for (const name of ['shares', 'jobs', 'trash', 'torrents', 'requests']) await shoot(name);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${ART}/admin-ui-docs.png`, fullPage: false }); // docs/admin-ui.png is a copy of this
    await page.setViewportSize({ width: 390, height: 844 });
    // 44 px targets on a phone, for every button the new parts add.
    const small = await page.$$eval('#sync button, #devices button, #conflict-rows button', (bs) => bs.filter((b) => (b as HTMLElement).offsetHeight > 0 && ((b as HTMLElement).offsetHeight < 44 || (b as HTMLElement).offsetWidth < 44)).map((b) => b.textContent));
    expect(small).toEqual([]);
    await page.screenshot({ path: `${ART}/admin-all-phone-sync.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  }, 120_000);

  it('links the catalogue back to the admin UI only for the owner on the NAS', async () => {
    await page.goto(`${nas.url}/catalogue/catalogue.html`);
    await page.waitForSelector('#admin-link:not([hidden])', { timeout: 20_000 });
    expect(await page.locator('#admin-link').getAttribute('href')).toBe('/');
    // The same page opened from disk (as on a device) shows no such link.
    const local = await browser.newPage();
    await local.goto(`file://${path.join(t.dir, 'catalogue/catalogue.html')}`);
    await local.waitForSelector('#admin-link', { state: 'attached' });
    await new Promise((r) => setTimeout(r, 500));
    expect(await local.locator('#admin-link').isHidden()).toBe(true);
    await local.close();
  }, 60_000);

  it('removes a device: syncing stops, its links go, the store keeps every file, the device keeps its own', async () => {
    await page.goto(`${nas.url}/#devices`);
    const row = page.locator('#device-rows tr', { hasText: 'laptop' });
    await row.getByRole('button', { name: 'Remove' }).click();
    await page.waitForFunction(() => !document.querySelector('#device-rows')?.textContent?.includes('laptop'), undefined, { timeout: 60_000 });
    expect(fs.existsSync(laptop())).toBe(false);
    expect(read(path.join(t.dir, 'files/while-paused.txt'))).toBe('sent while paused');
    expect(read(path.join(t.dir, 'files/Music/a.mp3'))).toBe('aaaa');
    expect(read(path.join(t.dir, 'files/first.txt'))).toBe('first');
    expect(read(path.join(t.dir, 'files/conf.txt'))).toBe('edit on the laptop');
    await waitFor(() => peer.listPeers('f').length === 0, 20_000);
    expect(folderSync().syncEngine!.listFolders().some((f) => f.id === FOLDER)).toBe(false);
    // The device was told nothing: its own files are all still there.
    expect(read(path.join(peerDir.dir, 'files/first.txt'))).toBe('first');
    expect(read(path.join(peerDir.dir, 'files/conf.txt'))).toBe('edit on the laptop');
    expect(JSON.parse(burrow(['device', 'list', '--json', '--root', t.dir]).stdout)).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
