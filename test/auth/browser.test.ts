/**
 * The NAS against hostile pages in real Chromium (issue 11, item 6 and 8's NAS half):
 * `attacker.test` resolves to 127.0.0.1 (--host-resolver-rules), as after a DNS rebinding.
 * The owner is logged in to the NAS in the same browser throughout.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { authNas, type AuthFixture } from './fixture.js';
import { loginPage, ownerFetch, TEST_PASSWORD } from '../helpers/nas-auth.js';
import { waitFor } from '../helpers/tmp.js';

let f: AuthFixture;
let browser: Browser;
let ctx: BrowserContext;
let evil: http.Server;
let evilPort: number;
let nasPort: number;
/** The page the attacker serves: it gets its script from the query string (all of it plain text). */
const EVIL_HTML = (script: string) => `<!doctype html><html><body><h1>cute cats</h1><script>${script}</script></body></html>`;
const pages = new Map<string, string>();

beforeAll(async () => {
  f = await authNas();
  nasPort = Number(new URL(f.nas.url).port);
  evil = http.createServer((req, res) => {
    const html = pages.get(new URL(req.url!, 'http://x').pathname);
    res.writeHead(html ? 200 : 404, { 'content-type': 'text/html' }).end(html ?? 'no');
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
  evilPort = (evil.address() as AddressInfo).port;
  browser = await launchBrowser(['--host-resolver-rules=MAP attacker.test 127.0.0.1']);
  ctx = await browser.newContext();
  await loginPage(await ctx.newPage(), f.nas.url, f.root);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await new Promise((r) => evil?.close(r));
  await f?.cleanup();
});

async function open(url: string): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(url);
  return page;
}

describe('the owner in the browser', () => {
  it('the catalogue, opened without a login, goes to the login page and back to the catalogue after it', async () => {
    const fresh = await browser.newContext();
    const page = await fresh.newPage();
    await page.goto(`${f.nas.url}/catalogue/catalogue.html?device=phone`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#password', 'wrong password!');
    await page.click('#submit');
    await expect.poll(() => page.locator('#message').textContent(), { timeout: 15_000 }).toMatch(/Wrong password/); // scrypt takes its time
    await page.fill('#password', TEST_PASSWORD);
    await Promise.all([page.waitForURL((u) => u.pathname === '/catalogue/catalogue.html'), page.click('#submit')]);
    expect(new URL(page.url()).search).toBe('?device=phone');
    await page.waitForFunction(() => document.documentElement.hasAttribute('data-loaded'));
    expect(await page.locator('#device').textContent()).toBe('device: phone');
    await fresh.close();
  });
});

describe('a hostile page against the logged-in owner\'s NAS', () => {
  it('DNS rebinding: the NAS under the attacker\'s name answers 421 to pages and to scripts', async () => {
    const nav = await ctx.newPage();
    const res = await nav.goto(`http://attacker.test:${nasPort}/`);
    expect(res!.status()).toBe(421);
    // The rebound page's own scripts (same origin as attacker.test:port) get nothing either.
    const seen = await nav.evaluate(async () => {
      const out: Array<[number, string]> = [];
      for (const [m, u] of [['GET', '/api/status'], ['GET', '/api/requests?device=phone'], ['POST', '/api/trash/empty']]) {
        const r = await fetch(u!, { method: m, headers: { 'content-type': 'application/json' }, body: m === 'POST' ? '{"all":true}' : undefined });
        out.push([r.status, await r.text()]);
      }
      return out;
    });
    for (const [status, body] of seen) {
      expect(status).toBe(421);
      expect(body).not.toMatch(/"files"|docs/);
    }
    await nav.close();
  });

  it('a cross-site or same-site page cannot restore from the trash or destroy, though the owner is logged in', async () => {
    // Something in the trash to restore, put there by the owner.
    const destroyed = await (await ownerFetch(f.root, `${f.nas.url}/api/requests?wait=10000`, { method: 'POST', body: JSON.stringify({ id: 'owner-destroy-0001', device: '@nas', action: 'destroy', path: 'docs/a.txt', confirm: true }) })).json() as { state: string; result: { trashId: string } };
    expect(destroyed.state).toBe('done');
    const trashId = destroyed.result.trashId;
    const target = `http://127.0.0.1:${nasPort}`;
    pages.set(
      '/csrf',
      EVIL_HTML(`
        (async () => {
          const T = ${JSON.stringify(target)};
          const r = [];
          // Simple requests need no preflight: a body-less POST, and a text/plain "JSON" body.
          r.push(await fetch(T + '/api/trash/${trashId}/restore', { method: 'POST', mode: 'no-cors', credentials: 'include' }).then(() => 'sent', (e) => String(e)));
          r.push(await fetch(T + '/api/requests?wait=5000', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' },
            body: JSON.stringify({ id: 'evil-destroy-' + location.port + location.hostname.length, device: '@nas', action: 'destroy', path: 'docs/b.txt', confirm: true }) }).then(() => 'sent', (e) => String(e)));
          // A JSON request needs CORS, which the NAS never grants.
          r.push(await fetch(T + '/api/status', { credentials: 'include' }).then((x) => 'read ' + x.status, (e) => 'blocked'));
          document.title = 'done ' + JSON.stringify(r);
        })();`),
    );
    for (const origin of [`http://attacker.test:${evilPort}`, `http://127.0.0.1:${evilPort}`]) {
      const page = await open(`${origin}/csrf`);
      await page.waitForFunction(() => document.title.startsWith('done '), undefined, { timeout: 15_000 });
      expect(await page.title(), origin).toContain('blocked');
      await page.close();
    }
    // Each fetch above resolved only once the NAS had answered it: nothing is still running.
    const trash = (await (await ownerFetch(f.root, `${f.nas.url}/api/trash`)).json()) as Array<{ id: string }>;
    expect(trash.map((t) => t.id)).toContain(trashId);
    expect(fs.existsSync(path.join(f.root, 'files/docs/a.txt'))).toBe(false);
    expect(fs.readFileSync(path.join(f.root, 'files/docs/b.txt'), 'utf8')).toBe('bbb');
    // The owner's own page still works in the same browser (the session was never the problem).
    const own = await open(`${f.nas.url}/`);
    await own.waitForFunction(() => document.querySelector('#storage-facts dt')?.textContent === 'Files');
    await own.close();
  });

  it('framing: the NAS\'s pages refuse to be shown in a frame, from another site or another local port', async () => {
    for (const [name, src] of [
      ['catalogue', `http://127.0.0.1:${nasPort}/catalogue/catalogue.html?device=phone`],
      ['admin', `http://127.0.0.1:${nasPort}/`],
      ['login', `http://127.0.0.1:${nasPort}/login`],
    ] as const) {
      pages.set(`/frame-${name}`, `<!doctype html><html><body><iframe id="f" src="${src}" width="800" height="600"></iframe></body></html>`);
      for (const origin of [`http://attacker.test:${evilPort}`, `http://127.0.0.1:${evilPort}`]) {
        const page = await ctx.newPage();
        const blocked: string[] = [];
        page.on('console', (m) => /frame|Refused/i.test(m.text()) && blocked.push(m.text()));
        await page.goto(`${origin}/frame-${name}`);
        await waitFor(() => page.frames().length === 2 && page.frames()[1]!.url() !== '' && page.frames()[1]!.url() !== 'about:blank', 10_000);
        const frame = page.frames()[1]!;
        // Chromium replaces a refused frame with its own error page: nothing of the NAS inside.
        await waitFor(() => frame.url().startsWith('chrome-error:'), 10_000).catch(() => undefined);
        expect(frame.url(), `${name} framed by ${origin}`).toMatch(/^chrome-error:/);
        await page.close();
      }
    }
  });
});
