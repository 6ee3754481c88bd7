/**
 * Nobody but the owner drives the NAS over HTTP (issue 11, item 6): a real NAS on 127.0.0.1,
 * real sockets. Every route but liveness and login refuses a stranger; a foreign Host gets 421;
 * the login is a scrypt-checked password, rate-limited, giving an HttpOnly SameSite=Strict
 * cookie; a state change with that cookie still needs the CSRF token; the API token works.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authNas, everyRoute, type AuthFixture } from './fixture.js';
import { isDeviceAreaPath } from '../../server/src/http/security/device-area.js';
import { apiToken, ownerFetch, TEST_PASSWORD } from '../helpers/nas-auth.js';
import { setAdminPassword } from '../../server/src/root/admin-password.js';
import { layoutOf } from '../../server/src/root/layout.js';

let f: AuthFixture;
beforeAll(async () => {
  f = await authNas();
  await setAdminPassword(layoutOf(f.root), TEST_PASSWORD);
}, 60_000);
afterAll(async () => f?.cleanup());

/** One request over a real socket with any headers (fetch will not send a foreign Host). */
function raw(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (b += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function login(password = TEST_PASSWORD): Promise<{ status: number; cookie: string; setCookie: string; csrf: string }> {
  const r = await raw('POST', `${f.nas.url}/api/login`, { 'content-type': 'application/json' }, JSON.stringify({ password }));
  const setCookie = String(r.headers['set-cookie']?.[0] ?? '');
  const j = JSON.parse(r.body) as { csrfToken?: string };
  return { status: r.status, cookie: setCookie.split(';')[0]!, setCookie, csrf: j.csrfToken ?? '' };
}

const PUBLIC = new Set(['/api/health', '/login', '/api/login', '/admin/login.js', '/admin/admin.css']);
const EXTRA: Array<[string, string]> = [
  ['GET', '/admin/admin.js'],
  ['GET', '/admin/index.html'],
  ['GET', '/catalogue/catalogue.html'],
  ['GET', '/catalogue/data/index.js'],
  ['GET', '/catalogue/devices/phone.js'],
  ['GET', '/api/requests?device=phone'],
];

describe('the NAS HTTP API without the owner', () => {
  it('refuses every route but health and login: 401 for the API and data, a redirect to /login for pages', async () => {
    const routes = [...everyRoute(f.nas), ...EXTRA].filter(([, u]) => !PUBLIC.has(u.split('?')[0]!));
    expect(routes.length).toBeGreaterThan(20);
    const seen: string[] = [];
    for (const [method, url] of routes) {
      const body = method === 'POST' ? JSON.stringify({ id: 'stranger-0001', device: 'phone', action: 'destroy', path: 'docs/a.txt', confirm: true }) : undefined;
      const r = await raw(method, `${f.nas.url}${url}`, body ? { 'content-type': 'application/json' } : { accept: 'text/html,*/*' }, body);
      const page = method === 'GET' && (url === '/' || url === '/catalogue' || url.endsWith('.html'));
      if (isDeviceAreaPath(url.split('?')[0]!)) {
        // The phone web app (test/web/phone-app.test.ts): its shell files hold no data; the rest needs a device credential.
        seen.push(`${method} ${url} ${r.status}`);
        if (/^\/app\/(app\.js|sw\.js|download-worker\.js|manifest\.webmanifest|icon\.svg)$/.test(url)) expect(r.status, url).toBe(200);
        else expect([401, 302, 403, 404], `${method} ${url}: ${r.body}`).toContain(r.status);
        expect(r.body).not.toContain('a.txt');
      } else if (page) {
        seen.push(`${method} ${url} ${r.status} ${r.headers.location}`);
        expect(r.status, `${method} ${url}`).toBe(303);
        expect(r.headers.location).toBe(`/login?next=${encodeURIComponent(url)}`);
      } else {
        seen.push(`${method} ${url} ${r.status}`);
        expect([401, 303], `${method} ${url}: ${r.body}`).toContain(r.status);
        if (url.startsWith('/api/')) expect(r.status, `${method} ${url}`).toBe(401);
      }
    }
    expect(fs.readFileSync(path.join(f.root, 'files/docs/a.txt'), 'utf8')).toBe('aaa');
  });

  it('health says only that the NAS is alive', async () => {
    const r = await raw('GET', `${f.nas.url}/api/health`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ok: true });
  });

  it('refuses a Host that is not its own (DNS rebinding) with 421, even with the token', async () => {
    const port = new URL(f.nas.url).port;
    for (const host of [`attacker.test:${port}`, 'attacker.test', `127.0.0.1.attacker.test:${port}`]) {
      const r = await raw('GET', `${f.nas.url}/api/status`, { host, authorization: `Bearer ${apiToken(f.root)}` });
      expect(r.status, host).toBe(421);
      expect(r.body).not.toContain('files');
    }
    expect((await raw('GET', `${f.nas.url}/api/health`, { host: `evil.example:${port}` })).status).toBe(421);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) expect((await raw('GET', `${f.nas.url}/api/status`, { host, authorization: `Bearer ${apiToken(f.root)}` })).status, host).toBe(200);
  });
});

describe('the owner', () => {
  it('with the API token reads and acts; a wrong token is refused', async () => {
    expect((await ownerFetch(f.root, `${f.nas.url}/api/status`)).status).toBe(200);
    const wrong = await fetch(`${f.nas.url}/api/status`, { headers: { authorization: `Bearer ${'x'.repeat(43)}` } });
    expect(wrong.status).toBe(401);
    const res = await ownerFetch(f.root, `${f.nas.url}/api/requests?wait=10000`, { method: 'POST', body: JSON.stringify({ id: 'token-mkdir-0001', device: '@nas', action: 'mkdir', path: 'docs', args: { name: 'made' }, confirm: true }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { state: string }).state).toBe('done');
    expect(fs.statSync(path.join(f.root, 'files/docs/made')).isDirectory()).toBe(true);
  });

  it('logs in with the password: an HttpOnly, SameSite=Strict session cookie; the wrong password gets nothing', async () => {
    const bad = await login('not the password');
    expect(bad.status).toBe(401);
    expect(bad.setCookie).toBe('');
    const ok = await login();
    expect(ok.status).toBe(200);
    expect(ok.setCookie).toMatch(/HttpOnly/i);
    expect(ok.setCookie).toMatch(/SameSite=Strict/i);
    expect(ok.setCookie).not.toMatch(/Secure/i); // plain HTTP on loopback; Secure under TLS (tls.test.ts)
    const st = await raw('GET', `${f.nas.url}/api/status`, { cookie: ok.cookie, 'sec-fetch-site': 'same-origin' });
    expect(st.status).toBe(200);
    // The cookie counts only for the NAS's own pages: another site or another local port gets 401.
    for (const site of ['cross-site', 'same-site']) expect((await raw('GET', `${f.nas.url}/api/status`, { cookie: ok.cookie, 'sec-fetch-site': site })).status, site).toBe(401);
  });

  it('a POST with the session cookie but without the CSRF token is refused (403), body or no body', async () => {
    const s = await login();
    const body = JSON.stringify({ id: 'csrf-destroy-0001', device: '@nas', action: 'destroy', path: 'docs/b.txt', confirm: true });
    const h = { cookie: s.cookie, 'content-type': 'application/json' };
    expect((await raw('POST', `${f.nas.url}/api/requests?wait=5000`, h, body)).status).toBe(403);
    expect((await raw('POST', `${f.nas.url}/api/requests?wait=5000`, { ...h, 'x-csrf-token': 'forged-token-value' }, body)).status).toBe(403);
    expect((await raw('POST', `${f.nas.url}/api/trash/empty`, h, JSON.stringify({ all: true }))).status).toBe(403);
    expect((await raw('POST', `${f.nas.url}/api/trash/sample-id/restore`, { cookie: s.cookie })).status).toBe(403); // no body at all
    expect((await raw('POST', `${f.nas.url}/api/logout`, { cookie: s.cookie })).status).toBe(403);
    expect(fs.existsSync(path.join(f.root, 'files/docs/b.txt'))).toBe(true);
    // With the token the page got at login, the same request runs.
    const ok = await raw('POST', `${f.nas.url}/api/requests?wait=10000`, { ...h, 'x-csrf-token': s.csrf }, body);
    expect(ok.status, ok.body).toBe(200);
    expect(fs.existsSync(path.join(f.root, 'files/docs/b.txt'))).toBe(false);
    // Logging out ends the session.
    expect((await raw('POST', `${f.nas.url}/api/logout`, { cookie: s.cookie, 'x-csrf-token': s.csrf })).status).toBe(200);
    expect((await raw('GET', `${f.nas.url}/api/status`, { cookie: s.cookie })).status).toBe(401);
  });

  it('every page carries frame-ancestors \'none\' and X-Frame-Options: DENY', async () => {
    const s = await login();
    for (const url of ['/', '/login', '/catalogue/catalogue.html', '/admin/admin.js', '/api/status']) {
      const r = await raw('GET', `${f.nas.url}${url}`, { cookie: s.cookie });
      expect(r.status, url).toBe(200);
      expect(r.headers['content-security-policy'], url).toMatch(/frame-ancestors 'none'/);
      expect(r.headers['x-frame-options'], url).toBe('DENY');
    }
  });

  it('login is rate-limited: after a handful of tries in a minute, even the right password waits (429)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await login(i < 7 ? `guess-${i}` : TEST_PASSWORD)).status);
    expect(statuses.slice(-3)).toEqual([429, 429, 429]);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
  });
});
