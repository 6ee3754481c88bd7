import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { initRoot, openRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import { launchBrowser } from '../helpers/browser.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';
import { loginPage, ownerHeaders } from '../helpers/nas-auth.js';

const t = tempDir();
let nas: RunningNas;
let browser: Browser;

beforeAll(async () => {
  initRoot(t.dir);
  const cfg = path.join(t.dir, '.burrow/config.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('  host: 0.0.0.0\n  port: 7421', '  host: 127.0.0.1\n  port: 0'));
  writeFiles(path.join(t.dir, 'files'), { 'Music/a.mp3': 'aaaa', 'Docs/<b>bold<\u2215b>.txt': 'hostile name' });
  const r = openRoot(t.dir);
  addDevice(r, 'laptop', 100);
  r.close();
  nas = await startNas(t.dir, { port: 0, host: '127.0.0.1' });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await nas?.stop();
  t.cleanup();
});

describe('admin UI', () => {
  it('shows storage, devices, shares with their read-only secret, and job history, with no script errors', async () => {
    const share = await fetch(`${nas.url}/api/requests?wait=10000`, {
      method: 'POST',
      headers: ownerHeaders(t.dir),
      body: JSON.stringify({ id: 'admin-ui-share-1', device: '@nas', action: 'share', path: 'Music/a.mp3', args: {}, confirm: true }),
    });
    const shared = (await share.json()) as { state: string; reason?: string };
    expect(shared.state, shared.reason).toBe('done');
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('dialog', (d) => {
      errors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await loginPage(page, nas.url, t.dir);
    await page.goto(`${nas.url}/`);
    await page.waitForFunction(() => document.querySelector('#device-rows td')?.textContent === 'laptop');
    const facts = await page.locator('#storage-facts').innerText();
    expect(facts).toMatch(/2 in 2 folders/);
    expect(await page.locator('#device-rows').innerText()).toMatch(/laptop\s+0\s+0 B\s+100\.0 MiB/);
    await page.waitForFunction(() => document.querySelector('#share-rows .secret') !== null);
    const secret = await page.locator('#share-rows .secret').innerText();
    expect(secret).toMatch(/^B[A-Z2-7]{40,}$/);
    expect(await page.locator('#share-rows').innerText()).toContain('Music/a.mp3');
    // The read-write secret never reaches the page.
    const html = await page.content();
    expect(html).not.toMatch(/\bA[A-Z2-7]{32}\b/);
    expect(await page.locator('#job-rows').innerText()).toMatch(/No job has run yet|dedupe|balance/);
    fs.mkdirSync('test-artifacts', { recursive: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: 'test-artifacts/admin-phone.png', fullPage: true });
    expect(errors).toEqual([]);
  });
});
