/**
 * A phone with nothing installed (issue 18): real headless Chromium with a 390×844 viewport
 * against a real in-process NAS over HTTPS (its own self-signed certificate, trusted by this
 * browser through its public key, so service workers and storage work as on a trusted origin).
 * Join by the QR code of `burrow device add phone --web`, [get] a 20 MB file into the browser's
 * Origin Private File System and see [open] turn bold, open it offline, a cut download resumes,
 * [delete], a quota too small, a revoked credential, and what a device credential can never do.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import { launchBrowser } from '../helpers/browser.js';
import { apiToken } from '../helpers/nas-auth.js';
import { burrow } from '../helpers/cli.js';
import { tempDir, waitFor, writeFiles } from '../helpers/tmp.js';
import { loopbackConfig } from '../helpers/config.js';
import { loaded, row, boldness } from '../catalogue/page-harness.js';

/**
 * Runs a step on the app's page again if the page reloaded under it: the app reloads itself when
 * the catalogue changed since it was drawn (the NAS republishes after every request), and a goto,
 * reload or evaluate that meets that reload fails with no fault of the app's.
 */
async function acrossReload<T>(page: Page, step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const reloaded = /interrupted by another navigation|Execution context was destroyed|reading 'tick'/.test(String(err));
      if (!reloaded || attempt >= 3) throw err;
      await page.waitForTimeout(300); // the old page keeps its marks until the new one commits
      await loaded(page);
    }
  }
}

const t = tempDir('burrow-phone-');
const root = path.join(t.dir, 'nas');
const MB = 1024 * 1024;
const big = crypto.randomBytes(20 * MB);
const note = 'a note kept on the phone\n';
let nas: RunningNas;
let browser: Browser;
let ca: string;
const sockets = new Set<Socket>();
const ranges: string[] = [];

/** An HTTPS request to the NAS that trusts exactly its certificate (no verification turned off). */
function call(p: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; text: string; json: () => any }> {
  const u = new URL(p, nas.url);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: u.hostname, port: u.port, path: p, method: init.method ?? 'GET', headers: init.headers, ca }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text, json: () => JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
const owner = (p: string, body?: unknown) =>
  call(p, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${apiToken(root)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

beforeAll(async () => {
  initRoot(root);
  loopbackConfig(root, [
    [/^( {2}tls:) auto$/m, '$1 on'],
    [/^( {2}debounceMs:) 300$/m, '$1 50'],
  ]);
  const r = openRoot(root);
  addDevice(r, 'laptop', null);
  writeFiles(r.layout.files, { 'big/file20.bin': big, 'docs/note.txt': note, 'docs/other.txt': 'other', 'docs/med.bin': crypto.randomBytes(2 * MB), 'big/file12.bin': crypto.randomBytes(12 * MB), 'big/file40.bin': crypto.randomBytes(40 * MB) });
  r.close();
  nas = await startNas(root, { port: 0, host: '127.0.0.1', watch: true, hash: false });
  expect(nas.url.startsWith('https://')).toBe(true);
  nas.app.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  nas.app.server.on('request', (req: { url?: string; headers: Record<string, unknown> }) => {
    if (req.url?.startsWith('/app/api/file/') && req.headers.range) ranges.push(String(req.headers.range));
  });
  const pem = fs.readFileSync(path.join(root, '.burrow', 'tls', 'cert.pem'), 'utf8');
  ca = pem;
  const spki = crypto.createHash('sha256').update(new crypto.X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  browser = await launchBrowser([`--ignore-certificate-errors-spki-list=${spki}`]);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await nas?.stop();
  t.cleanup();
});

async function phoneContext(): Promise<{ ctx: BrowserContext; page: Page; problems: string[] }> {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return { ctx, page, problems };
}

/** The join link, read back from the QR code `burrow device add --web --json` printed. */
async function joinLinkFromQr(page: Page, name: string): Promise<string> {
  const out = burrow(['device', 'add', name, '--web', '--json', '--root', root]);
  expect(out.status, out.stderr).toBe(0);
  const j = JSON.parse(out.stdout) as { url: string; qr: string; trusted: boolean };
  await page.setContent(`<img id="qr" src="${j.qr}" width="400" height="400" style="image-rendering:pixelated">`);
  await page.waitForFunction(() => (document.getElementById('qr') as HTMLImageElement).complete);
  const png = PNG.sync.read(await page.locator('#qr').screenshot());
  const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
  expect(decoded).toBe(j.url);
  expect(j.url.startsWith(`${nas.url}/join/`)).toBe(true);
  return decoded!;
}

/** Size of files/<p> in the browser's OPFS, -1 when it is not there. */
async function opfsSize(page: Page, p: string): Promise<number> {
  let out = -2;
  await waitFor(async () => {
    try {
      out = await page.evaluate(async (rel) => {
        try {
          let d = await (await navigator.storage.getDirectory()).getDirectoryHandle('files');
          const names = rel.split('/');
          for (const n of names.slice(0, -1)) d = await d.getDirectoryHandle(n);
          return (await (await d.getFileHandle(names[names.length - 1]!)).getFile()).size;
        } catch {
          return -1;
        }
      }, p);
      return true;
    } catch {
      return false; // the page was reloading
    }
  }, 30_000, 200);
  return out;
}

/** page.evaluate that tolerates the page reloading itself (it does when the catalogue changes). */
async function evalSoon<T>(page: Page, fn: () => Promise<T> | T): Promise<T> {
  let out: T | undefined;
  let last: unknown;
  await waitFor(async () => {
    try {
      out = await page.evaluate(fn);
      return true;
    } catch (err) {
      last = err;
      return false;
    }
  }, 30_000, 200).catch((err) => {
    throw new Error(`${String(err)}; last error: ${String(last)}`);
  });
  return out!;
}

/** Wait for the page (reloaded or not) to show the row of `p`, opening the folders above it. */
async function showRow(page: Page, p: string): Promise<void> {
  await waitFor(async () => {
    try {
      return await page.evaluate((want) => {
        if (!document.documentElement.hasAttribute('data-loaded')) return false;
        const rows = () => Array.from(document.querySelectorAll<HTMLElement>('.row'));
        const parts = want.split('/');
        for (let i = 1; i < parts.length; i++) {
          const dir = parts.slice(0, i).join('/');
          const r = rows().find((x) => x.dataset.path === dir);
          if (!r) return false;
          if (r.getAttribute('aria-expanded') !== 'true') (r.querySelector('.tw') as HTMLElement).click();
        }
        return rows().some((x) => x.dataset.path === want);
      }, p);
    } catch {
      return false;
    }
  }, 30_000, 200);
}

async function openBold(page: Page, p: string): Promise<boolean> {
  try {
    await showRow(page, p);
    return (await boldness(page, p)).open;
  } catch {
    return false;
  }
}

/** [get] (or another row action) with its confirm dialog; tried again if a reload got in between. */
async function clickGet(page: Page, p: string, menuAction?: string): Promise<void> {
  await waitFor(async () => {
    try {
      await showRow(page, p);
      if (menuAction) {
        await (await row(page, p)).locator('.name').click({ timeout: 3000 });
        await page.locator(`#menu [data-action="${menuAction}"]`).click({ timeout: 3000 });
      } else await (await row(page, p)).locator('.get').click({ timeout: 3000 });
      await page.locator('#dlg-confirm').click({ timeout: 3000 });
      return true;
    } catch {
      return false;
    }
  }, 60_000, 200);
}

describe('the phone web app', () => {
  let ctx: BrowserContext;
  let page: Page;
  let problems: string[];

  it('joins by the QR link, registers a service worker, and [get] of 20 MB makes [open] bold once the whole file is in OPFS', async () => {
    ({ ctx, page, problems } = await phoneContext());
    const link = await joinLinkFromQr(page, 'phone');
    await page.goto(link);
    expect(new URL(page.url()).pathname).toBe('/app/c/catalogue.html');
    await loaded(page);
    expect(await page.locator('#device').textContent()).toContain('phone');
    // The link works once.
    const again = await call(new URL(link).pathname);
    expect(again.status).toBe(403);
    expect(again.text).toContain('used already');
    await page.waitForFunction(async () => !!(await navigator.serviceWorker.getRegistration('/app/'))?.active, undefined, { timeout: 20_000 });
    expect(await page.evaluate(() => document.querySelector('link[rel=manifest]')?.getAttribute('href'))).toBe('/app/manifest.webmanifest');

    await showRow(page, 'big/file20.bin');
    expect((await boldness(page, 'big/file20.bin')).open).toBe(false);
    await clickGet(page, 'big/file20.bin');
    await waitFor(() => openBold(page, 'big/file20.bin'), 60_000, 100);
    expect(await opfsSize(page, 'big/file20.bin')).toBe(20 * MB);
    // The NAS linked it into devices/phone/ as for any device.
    expect(fs.statSync(path.join(root, 'devices/phone/big/file20.bin')).ino).toBe(fs.statSync(path.join(root, 'files/big/file20.bin')).ino);
    // The browser's quota reached the NAS as the device's reported limit.
    await waitFor(async () => {
      const list = JSON.parse(burrow(['device', 'list', '--json', '--root', root]).stdout) as Array<{ name: string; reported: { limitBytes: number } | null }>;
      return list.find((d) => d.name === 'phone')?.reported?.limitBytes;
    }, 20_000, 200);
    // The whole file, byte for byte, as [open] serves it from the service worker.
    const digest = await evalSoon(page, async () => {
      const buf = await (await fetch('/app/files/big/file20.bin')).arrayBuffer();
      return Array.from(new Uint8Array(await self.crypto.subtle.digest('SHA-256', buf))).map((b) => b.toString(16).padStart(2, '0')).join('');
    });
    expect(digest).toBe(crypto.createHash('sha256').update(big).digest('hex'));
    expect(problems).toEqual([]);
  }, 120_000);

  it('browses, searches and opens offline; a request made offline waits and is sent when the NAS is back', async () => {
    await clickGet(page, 'docs/note.txt');
    await waitFor(() => openBold(page, 'docs/note.txt'), 30_000, 100);
    // Let the service worker cache this page load's catalogue.
    await page.reload();
    await loaded(page);
    await ctx.setOffline(true);
    await page.reload();
    await loaded(page);
    await page.fill('#q', 'note');
    await waitFor(async () => (await page.locator('.row').count()) > 0 && (await page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('.row')).some((r) => r.dataset.path === 'docs/note.txt'))), 15_000, 100);
    await page.fill('#q', '');
    await waitFor(() => openBold(page, 'docs/note.txt'), 15_000, 100);
    // [open] offline: the copy in this browser.
    const href = await (await row(page, 'docs/note.txt')).locator('.open').getAttribute('href');
    const opened = await ctx.newPage();
    await opened.goto(new URL(href!, page.url()).href);
    expect(await opened.locator('body').textContent()).toContain('a note kept on the phone');
    await opened.close();
    // A request made offline is shown as waiting…
    await clickGet(page, 'docs/other.txt');
    await waitFor(async () => ((await (await row(page, 'docs/other.txt')).locator('.state').allTextContents()).join(' ').includes('waiting')), 10_000, 100);
    expect(await page.locator('#webapp').textContent()).toContain('1 request(s) waiting');
    expect(await page.getAttribute('html', 'data-webapp')).toBe('offline');
    expect(fs.existsSync(path.join(root, 'devices/phone/docs/other.txt'))).toBe(false);
    // …and sent when the NAS is back.
    await ctx.setOffline(false);
    await waitFor(() => openBold(page, 'docs/other.txt'), 30_000, 100);
    expect(fs.existsSync(path.join(root, 'devices/phone/docs/other.txt'))).toBe(true);
  }, 120_000);

  it('a download cut in the middle resumes with a Range request', async () => {
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 4 * MB, uploadThroughput: 4 * MB });
    ranges.length = 0;
    await clickGet(page, 'big/file40.bin');
    // Early on: the page shows progress; then every connection to the NAS is cut. 40 MB and a cut
    // before 40 %: Chromium and the kernel buffer several MB past what the page has seen (throttling
    // delays delivery, not the socket), and with 12 MB a cut at 50-80 % under load (ci20 on
    // 2026-12-03) found the rest already buffered and no Range request was needed.
    await waitFor(async () => {
      const m = /Downloading big\/file40\.bin: (\d+)%/.exec((await page.locator('#webapp').textContent()) ?? '');
      return m && Number(m[1]) >= 10 && Number(m[1]) <= 40;
    }, 30_000, 50);
    // A reset, not a close: a closed socket still delivers what sits in the kernel's buffers
    // (several MB on loopback), so a cut late in the download let it complete with no Range (checked:
    // a cut at 70-95 % completed so; with a reset, it resumed).
    // A reset drops those bytes on both sides, as a dropped Wi-Fi does.
    for (const s of sockets) s.resetAndDestroy();
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await waitFor(() => openBold(page, 'big/file40.bin'), 60_000, 100);
    expect(ranges.some((r) => /^bytes=[1-9]\d*-$/.test(r))).toBe(true);
    const bytes = await evalSoon(page, async () => {
      const buf = await (await fetch('/app/files/big/file40.bin')).arrayBuffer();
      return Array.from(new Uint8Array(await self.crypto.subtle.digest('SHA-256', buf))).map((b) => b.toString(16).padStart(2, '0')).join('');
    });
    expect(bytes).toBe(crypto.createHash('sha256').update(fs.readFileSync(path.join(root, 'files/big/file40.bin'))).digest('hex'));
  }, 120_000);

  it('[delete] removes the file from the browser and the NAS drops the link; what the NAS unlinks (an eviction) leaves the phone too', async () => {
    await clickGet(page, 'big/file40.bin', 'delete');
    await waitFor(async () => !fs.existsSync(path.join(root, 'devices/phone/big/file40.bin')) && (await opfsSize(page, 'big/file40.bin')) === -1, 30_000, 100);
    expect(await openBold(page, 'big/file40.bin')).toBe(false);
    // The owner (or the balancer) unlinking a file from devices/phone/ removes it from the phone.
    const res = await owner('/api/requests?wait=20000', { id: crypto.randomUUID(), device: 'phone', action: 'delete', path: 'docs/other.txt', confirm: true, args: {} });
    expect(res.json().state).toBe('done');
    await waitFor(async () => (await opfsSize(page, 'docs/other.txt')) === -1, 30_000, 100);
  }, 60_000);

  it('a quota too small: a clear message, and nothing half-stored shows [open]', async () => {
    // The owner links a 12 MB file while the app is closed; the browser then allows only 1 MB more.
    await page.goto('about:blank');
    const res = await owner('/api/requests?wait=20000', { id: crypto.randomUUID(), device: 'phone', action: 'get', path: 'big/file12.bin', confirm: true, args: {} });
    expect(res.json().state).toBe('done');
    const cdp = await ctx.newCDPSession(page);
    const origin = new URL(nas.url).origin;
    // The quota is measured and cut on a page of the same origin that does not run the app: the
    // app starts the download as soon as it loads, and on loopback 12 MB can land before a quota
    // set after the load (ci on 2026-12-02 saw exactly that: the file stored, no message).
    await page.goto(`${nas.url}/app/icon.svg`);
    const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + MB });
    await acrossReload(page, () => page.goto(`${nas.url}/app/c/catalogue.html`));
    await loaded(page);
    await waitFor(async () => ((await page.locator('#webapp').textContent()) ?? '').includes('Not stored: big/file12.bin needs'), 30_000, 100).catch(async (err) => {
      throw new Error(`${String(err)}; the app says: ${await page.locator('#webapp').textContent()}; ${JSON.stringify(await page.evaluate(() => navigator.storage.estimate()))}`);
    });
    expect(await openBold(page, 'big/file12.bin')).toBe(false);
    expect(await opfsSize(page, 'big/file12.bin')).toBe(-1);
    const parts = await page.evaluate(async () => {
      const names: string[] = [];
      try {
        for await (const k of (await (await navigator.storage.getDirectory()).getDirectoryHandle('parts')).keys()) names.push(k);
      } catch {
        /* none */
      }
      return names;
    });
    expect(parts).toEqual([]);
    // The browser's quota reaches the NAS as the device's limit (as an agent's report would);
    // the NAS then refuses a [get] that cannot fit, saying why. (Chromium's override above
    // limits writes but not what estimate() says, so the report is sent here as the app sends it.)
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    await page.goto('about:blank');
    const c = (await ctx.cookies(nas.url)).find((k) => k.name.endsWith('burrow-device'))!;
    const report = async (quotaBytes: number) => {
      const rep = await call('/app/api/report', { method: 'POST', headers: { cookie: `${c.name}=${c.value}`, 'x-burrow-device': '1', 'content-type': 'application/json' }, body: JSON.stringify({ quotaBytes, usageBytes: 0, filesBytes: 0 }) });
      expect(rep.status).toBe(200);
      return rep.json().effectiveQuotaBytes as number;
    };
    expect(await report(1 * MB)).toBe(1 * MB);
    const refused = (await owner('/api/requests?wait=20000', { id: crypto.randomUUID(), device: 'phone', action: 'get', path: 'docs/med.bin', confirm: true, args: {} })).json();
    expect(refused.state).toBe('failed');
    expect(refused.reason).toMatch(/Not enough room on phone/);
    expect(fs.existsSync(path.join(root, 'devices/phone/big/file20.bin'))).toBe(true);

    // A [get] that fits only after the balancer evicts the least recently used file: the
    // eviction is applied on the phone too.
    expect(await report(30 * MB)).toBe(30 * MB);
    const fits = (await owner('/api/requests?wait=20000', { id: crypto.randomUUID(), device: 'phone', action: 'get', path: 'docs/other.txt', confirm: true, args: {} })).json();
    expect(fits.state, fits.reason).toBe('done');
    expect(fs.existsSync(path.join(root, 'devices/phone/big/file20.bin'))).toBe(false);
    await page.goto(`${nas.url}/app/c/catalogue.html`);
    await loaded(page);
    await waitFor(async () => (await opfsSize(page, 'big/file20.bin')) === -1 && (await opfsSize(page, 'docs/other.txt')) === 5, 30_000, 200);
    expect(await openBold(page, 'big/file20.bin')).toBe(false);
  }, 90_000);

  it('a device credential acts only for its device and never reaches an owner route; revoked, the app says so and stops', async () => {
    const cookies = await ctx.cookies(nas.url);
    const c = cookies.find((k) => k.name.endsWith('burrow-device'))!;
    expect(c.httpOnly).toBe(true);
    expect(c.secure).toBe(true);
    const dev = { cookie: `${c.name}=${c.value}`, 'x-burrow-device': '1', 'content-type': 'application/json' };
    const act = (body: Record<string, unknown>) => call('/app/api/requests?wait=5000', { method: 'POST', headers: dev, body: JSON.stringify({ id: crypto.randomUUID(), action: 'get', path: 'docs/note.txt', confirm: true, args: {}, ...body }) });
    // Not for another device…
    const other = await act({ device: 'laptop' });
    expect(other.status).toBe(403);
    expect(other.json().error).toBe('OTHER_DEVICE');
    expect(fs.existsSync(path.join(root, 'devices/laptop/docs/note.txt'))).toBe(false);
    expect((await call('/app/c/devices/laptop.js', { headers: dev })).status).toBe(403);
    // …nor as the owner: every owner route refuses the device cookie.
    for (const p of ['/api/devices', '/api/requests?device=laptop', '/catalogue/catalogue.html', '/api/admin/devices', '/api/trash', '/', '/app/../api/devices']) {
      const r = await call(p, { headers: { cookie: dev.cookie, accept: 'application/json' } });
      expect([401, 303, 404], `${p}: ${r.status}`).toContain(r.status);
      expect(r.text).not.toContain('laptop');
    }
    const asOwner = await call('/api/requests?wait=5000', { method: 'POST', headers: dev, body: JSON.stringify({ id: crypto.randomUUID(), device: 'laptop', action: 'get', path: 'docs/note.txt', confirm: true }) });
    expect(asOwner.status).toBe(401);
    // Without the app's header (a cross-site form), nothing is taken.
    const noHeader = await call('/app/api/requests', { method: 'POST', headers: { cookie: dev.cookie, 'content-type': 'application/json' }, body: JSON.stringify({ id: crypto.randomUUID(), device: 'phone', action: 'get', path: 'docs/other.txt' }) });
    expect(noHeader.status).toBe(403);
    // The owner's token does not act as a device either.
    expect((await owner('/app/api/holdings')).status).toBe(401);

    // Revoked: the next contact fails, the app says so and stops acting.
    const out = burrow(['device', 'revoke-web', 'phone', '--json', '--root', root]);
    expect(out.status, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).revoked).toBeGreaterThan(0);
    await acrossReload(page, () => page.evaluate(() => (window as unknown as { BURROW_WEBAPP: { tick(): Promise<void> } }).BURROW_WEBAPP.tick()));
    await waitFor(async () => (await page.getAttribute('html', 'data-webapp')) === 'revoked', 20_000, 100);
    expect(await page.locator('#webapp').textContent()).toContain('revoked by the owner');
    expect((await act({ device: 'phone' })).status).toBe(401);
    expect((await call('/app/api/holdings', { headers: dev })).json().error).toBe('DEVICE_REVOKED');
    await ctx.close();
  }, 60_000);
});
