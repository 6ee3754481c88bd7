import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import jsQR from 'jsqr';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { SecretsRepo } from '../../server/src/store/secrets-repo.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import { launchBrowser } from '../helpers/browser.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';
import { loginPage, ownerFetch } from '../helpers/nas-auth.js';
import { burrow } from '../helpers/cli.js';

const t = tempDir();
let nas: RunningNas;
let nasStopped = false;
let browser: Browser;
let page: Page;
const errors: string[] = [];
// What the page's prompt() dialogs answer, in order; confirm() is always accepted.
const promptAnswers: string[] = [];
const ART = 'test-artifacts';

async function decodeQr(img: Locator): Promise<string | undefined> {
  await img.page().waitForFunction((e) => (e as HTMLImageElement).complete && (e as HTMLImageElement).naturalWidth > 0, await img.elementHandle());
  const png = PNG.sync.read(await img.screenshot());
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
}

async function request(body: Record<string, unknown>): Promise<{ state: string; reason?: string }> {
  const r = await ownerFetch(t.dir, `${nas.url}/api/requests?wait=20000`, { method: 'POST', body: JSON.stringify({ confirm: true, device: '@nas', ...body }) });
  return (await r.json()) as { state: string; reason?: string };
}

async function shoot(name: string): Promise<void> {
  for (const [kind, size] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
    await page.setViewportSize(size);
    await page.locator(`#${name}`).screenshot({ path: `${ART}/admin-${name}-${kind}.png` });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

beforeAll(async () => {
  initRoot(t.dir);
  const cfg = path.join(t.dir, '.burrow/config.yaml');
  fs.writeFileSync(
    cfg,
    fs
      .readFileSync(cfg, 'utf8')
      .replace('  host: 0.0.0.0\n  port: 7421', '  host: 127.0.0.1\n  port: 0')
      .replace('  publicAddresses: []', '  publicAddresses: ["127.0.0.1:7421"]')
      .replace('  dedupeMinAgeSeconds: 60', '  dedupeMinAgeSeconds: 0'),
  );
  writeFiles(path.join(t.dir, 'files'), { 'Music/a.mp3': 'aaaa', 'Music/copy-a.mp3': 'aaaa', 'Docs/<b>bold<\u2215b>.txt': 'hostile name', 'Docs/old.txt': 'old notes', 'Docs/older.txt': 'older notes' });
  const r = openRoot(t.dir);
  addDevice(r, 'laptop', 100);
  r.close();
  nas = await startNas(t.dir, { port: 0, host: '127.0.0.1' });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('dialog', (d) => void (d.type() === 'prompt' ? d.accept(promptAnswers.shift() ?? '') : d.accept()));
  fs.mkdirSync(ART, { recursive: true });
  await loginPage(page, nas.url, t.dir);
  await page.goto(`${nas.url}/`);
});
afterAll(async () => {
  await browser?.close();
  if (!nasStopped) await nas?.stop();
  t.cleanup();
});

describe('admin UI runs the NAS', () => {
  it('gets live updates over server-sent events, only for the owner', async () => {
    const anon = await fetch(`${nas.url}/api/admin/events`);
    expect(anon.status).toBe(401);
    await page.waitForSelector('#live[data-state="live"]');
    await page.waitForFunction(() => document.querySelector('#device-rows td')?.textContent === 'laptop');
    // A device added elsewhere (API token, as a script would) shows up on the open page.
    const added = await ownerFetch(t.dir, `${nas.url}/api/admin/devices`, { method: 'POST', body: JSON.stringify({ name: 'tablet', limitMb: null }) });
    expect(added.status).toBe(200);
    await page.waitForFunction(() => document.querySelector('#device-rows')?.textContent?.includes('tablet'));
    // Bad input is named.
    const bad = await ownerFetch(t.dir, `${nas.url}/api/admin/devices`, { method: 'POST', body: JSON.stringify({ name: 'tablet', limitMb: null }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/already exists/);
  });

  it('adds a device, shows its join QR (decoded), sets its limit, and shows its last contact', async () => {
    await page.fill('#device-name', 'phone');
    await page.fill('#device-limit', '50');
    await page.click('#device-add-submit');
    await page.waitForSelector('#join:not([hidden])');
    const join = await page.locator('#join-string').innerText();
    expect(join).toMatch(/^burrow1:/);
    expect(await decodeQr(page.locator('#join-qr'))).toBe(join);
    await page.waitForFunction(() => [...document.querySelectorAll('#device-rows tr')].some((tr) => /^phone\s+0\s+0 B\s+50\.0 MiB/.test((tr as HTMLElement).innerText)));
    await shoot('devices');

    promptAnswers.push('75');
    const row = page.locator('#device-rows tr', { hasText: 'phone' });
    await row.getByRole('button', { name: 'Set limit' }).click();
    await expect.poll(() => row.innerText()).toMatch(/75\.0 MiB/);
    expect(nas.ctx.store.devices.get('phone')?.quota_bytes).toBe(75 * 1024 * 1024);

    expect(await page.locator('#device-rows tr', { hasText: 'laptop' }).innerText()).toMatch(/offline, last contact never\s+nothing/);
    const pin = burrow(['pin', 'Music', '--device', 'laptop', '--root', t.dir]);
    expect(pin.status, pin.stderr).toBe(0);
    // The laptop's agent reports (as the sync service records it); the next event refreshes the page.
    new SecretsRepo(nas.ctx.store.db).saveReport({ device: 'laptop', limit_bytes: null, free_bytes: 1e9, used_bytes: 0, admin_quota_bytes: 100 * 1024 * 1024, agent_version: '0.1.0' });
    nas.ctx.events.emit('links-changed', { device: 'laptop' });
    await expect.poll(() => page.locator('#device-rows tr', { hasText: 'laptop' }).innerText(), { timeout: 15_000 }).toMatch(/online, last contact \d+ s ago\s+Music/);
    // A limit set after the agent reported is the one its later reports are capped by.
    promptAnswers.push('60');
    const laptop = page.locator('#device-rows tr', { hasText: 'laptop' });
    await laptop.getByRole('button', { name: 'Set limit' }).click();
    await expect.poll(() => laptop.innerText()).toMatch(/60\.0 MiB/);
    expect(nas.ctx.store.devices.get('laptop')?.effective_quota_bytes).toBe(60 * 1024 * 1024); // the report (1 GB free) does not lower it
    expect(nas.ctx.store.devices.get('laptop')?.quota_bytes).toBe(60 * 1024 * 1024);
  });

  it('shows a share\'s read-only secret as text and QR, revokes it, and lists it apart', async () => {
    const shared = await request({ id: 'admin-ui-share-1', action: 'share', path: 'Music/a.mp3', args: {} });
    expect(shared.state, shared.reason).toBe('done');
    const row = page.locator('#share-rows tr', { hasText: 'Music/a.mp3' });
    await row.locator('.secret').waitFor();
    const secret = await row.locator('.secret').innerText();
    expect(secret).toMatch(/^B[A-Z2-7]{40,}$/);
    await row.getByRole('button', { name: 'QR' }).click();
    await page.waitForSelector('#share-qr-box:not([hidden])');
    expect(await decodeQr(page.locator('#share-qr'))).toBe(secret);
    await shoot('shares');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.waitForFunction(() => document.querySelector('#revoked-rows')?.textContent?.includes('Music/a.mp3'));
    expect(await page.locator('#share-rows').innerText()).not.toContain('Music/a.mp3');
    const shares = (await (await ownerFetch(t.dir, `${nas.url}/api/shares`)).json()) as Array<{ source_path: string; state: string }>;
    expect(shares.find((s) => s.source_path === 'Music/a.mp3')?.state).toBe('revoked');
    expect(fs.readFileSync(path.join(t.dir, 'files/Music/a.mp3'), 'utf8')).toBe('aaaa');
  });

  it('runs dedupe now and shows its progress over the stream up to 100%, and the next scheduled run', async () => {
    await expect.poll(() => page.locator('#next-dedupe').innerText()).toMatch(/next run: .+\(30 2 \* \* \*\)/);
    await expect.poll(async () => nas.ctx.store.contents.progress().hashed, { timeout: 20000 }).toBeGreaterThanOrEqual(5);
    const seen: number[] = [];
    await page.exposeFunction('reportProgress', (v: number) => seen.push(v));
    await page.evaluate(() => {
      const bar = document.getElementById('progress-dedupe') as HTMLProgressElement;
      new MutationObserver(() => (window as unknown as { reportProgress(v: number): void }).reportProgress(bar.value)).observe(bar, { attributes: true });
    });
    await page.click('#run-dedupe');
    await page.waitForSelector('#status-dedupe[data-state="done"]', { timeout: 30000 });
    expect(await page.locator('#progress-dedupe').evaluate((b) => (b as HTMLProgressElement).value)).toBe(100);
    expect(await page.locator('#status-dedupe').innerText()).toMatch(/done \(100%\): 1 groups, 1 files linked, 4 B saved/);
    expect(seen.at(-1)).toBe(100);
    expect(fs.statSync(path.join(t.dir, 'files/Music/a.mp3')).ino).toBe(fs.statSync(path.join(t.dir, 'files/Music/copy-a.mp3')).ino);
    await expect.poll(() => page.locator('#job-rows').innerText()).toMatch(/dedupe\s.*4 B saved/);
    // Balance runs from the page too, and reports its end over the stream.
    await page.click('#run-balance');
    await page.waitForSelector('#status-balance[data-state="done"]', { timeout: 30000 });
    expect(await page.locator('#status-balance').innerText()).toMatch(/done \(100%\): laptop: freed 0 B/);
    await shoot('jobs');
  });

  it('lists the trash with when each item goes, restores an item, and empties it', async () => {
    for (const [id, p] of [['admin-ui-destroy-1', 'Docs/old.txt'], ['admin-ui-destroy-2', 'Docs/older.txt']]) {
      const d = await request({ id, action: 'destroy', path: p });
      expect(d.state, d.reason).toBe('done');
    }
    expect(fs.existsSync(path.join(t.dir, 'files/Docs/old.txt'))).toBe(false);
    const row = page.locator('#trash-rows tr', { hasText: 'files/Docs/old.txt' });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/file, 1 files, 9 B/);
    await shoot('trash');
    await row.getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => fs.existsSync(path.join(t.dir, 'files/Docs/old.txt'))).toBe(true);
    expect(fs.readFileSync(path.join(t.dir, 'files/Docs/old.txt'), 'utf8')).toBe('old notes');
    await page.waitForFunction(() => !document.querySelector('#trash-rows')?.textContent?.includes('Docs/old.txt'));
    await page.click('#trash-empty');
    await page.waitForFunction(() => document.querySelector('#trash-rows')?.textContent === 'The trash is empty.');
    expect(fs.readdirSync(path.join(t.dir, '.burrow/trash')).length).toBe(0);
  });

  it('draws each chart from the figures of burrow status --json', async () => {
    const cli = burrow(['status', '--json', '--root', t.dir]);
    expect(cli.status, cli.stderr).toBe(0);
    const status = JSON.parse(cli.stdout) as { bytes: number; devices: Array<{ name: string; bytes: number; quotaBytes: number | null }> };
    const bars = async (chart: string) => {
      const svg = await (await ownerFetch(t.dir, `${nas.url}/api/admin/charts/${chart}.svg`)).text();
      return [...svg.matchAll(/data-label="([^"]*)" data-bytes="(\d+)" data-limit="(\d*)"/g)].map((m) => ({ label: m[1], bytes: Number(m[2]), limit: m[3] === '' ? null : Number(m[3]) }));
    };
    const storage = await bars('storage');
    expect(storage[0]).toEqual({ label: 'Store (files/)', bytes: status.bytes, limit: null });
    expect(status.bytes).toBeGreaterThan(0);
    for (const d of status.devices) expect(storage).toContainEqual({ label: `device ${d.name}`, bytes: d.bytes, limit: null });
    expect(await bars('device-limits')).toEqual(status.devices.map((d) => ({ label: d.name, bytes: d.bytes, limit: d.quotaBytes })));
    // Dedupe's savings over time, from its run history (`burrow dedupe` reports the same runs).
    const saved = await bars('dedupe-saved');
    expect(saved.map((b) => b.bytes)).toEqual([4]);
    // The page draws them (the strict CSP lets its own SVGs in).
    await page.waitForFunction(() => ['chart-storage', 'chart-device-limits', 'chart-dedupe-saved'].every((id) => (document.getElementById(id) as HTMLImageElement).naturalWidth > 0));
    await shoot('overview');
  });

  it('lists every folder the sync engine serves with its progress and peers', async () => {
    const row = page.locator('#sync-rows tr', { hasText: 'device:phone' });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/send-receive\s+(in sync|.+ left)\s+.*\/s\s+in .+, out .+\s+no peer connected\s+none\s+Pause/);
    expect(await page.locator('#sync-rows').innerText()).toContain('catalogue:catalogue');
    await shoot('sync');
  });

  it('lists torrents with their downloads and stops one', async () => {
    const made = await request({ id: 'admin-ui-torrent-1', action: 'torrent', path: 'Music/copy-a.mp3', args: {} });
    expect(made.state, made.reason).toBe('done');
    const row = page.locator('#torrent-rows tr', { hasText: 'Music/copy-a.mp3' });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/public\s+active\s+0 \(0 B served\)/);
    await shoot('torrents');
    await row.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => row.innerText()).toMatch(/stopped: stopped by the owner/);
    const list = (await (await ownerFetch(t.dir, `${nas.url}/api/torrents`)).json()) as { torrents: Array<{ source_path: string; state: string }> };
    expect(list.torrents.find((x) => x.source_path === 'Music/copy-a.mp3')?.state).toBe('stopped');
  });

  it('shows the requests log filtered by device', async () => {
    await page.selectOption('#request-device', '@nas');
    await expect.poll(() => page.locator('#request-rows').innerText()).toMatch(/destroy\s+Docs\/old\.txt\s+done/);
    await page.selectOption('#request-device', 'laptop');
    await expect.poll(() => page.locator('#request-rows').innerText()).toBe('No requests from laptop.');
    await shoot('requests');
  });

  it('fits a 390x844 phone: cards instead of tables, 44 px targets, nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const small = await page.evaluate(() =>
      [...document.querySelectorAll('button, a, select, input')]
        .map((e) => ({ e, r: e.getBoundingClientRect() }))
        .filter(({ r }) => r.width > 0 && r.height > 0)
        .filter(({ r }) => r.width < 44 || r.height < 44)
        .map(({ e, r }) => `${e.tagName} ${e.textContent?.trim()} ${r.width}x${r.height}`),
    );
    expect(small).toEqual([]);
    // Cells are labelled cards: "Device" is never split into letters.
    expect(await page.locator('#device-rows td').first().evaluate((td) => getComputedStyle(td, '::before').content)).toBe('"Device"');
    expect(await page.locator('#device-rows td').first().evaluate((td) => getComputedStyle(td).wordBreak)).toBe('normal');
    await page.screenshot({ path: `${ART}/admin-all-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: `${ART}/admin-all-desktop.png`, fullPage: true });
    expect(errors).toEqual([]);
  });

  it('an open event stream does not keep the NAS from stopping', async () => {
    await page.close();
    const r = await ownerFetch(t.dir, `${nas.url}/api/admin/events`);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = r.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^event: hello\n/);
    nasStopped = true;
    await nas.stop();
    for (;;) if ((await reader.read()).done) break;
  });
});
