/**
 * The owner at the CLI (issue 11, item 6): `burrow password` from standard input, `burrow init`
 * without a terminal, `burrow request` through the API token, a bad http.host named, and a
 * non-loopback bind that needs TLS (self-signed, its fingerprint printed by `burrow status`).
 */
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { burrow, burrowBackground, exitOf } from '../helpers/cli.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';
import { checkAdminPassword } from '../../server/src/root/admin-password.js';
import { layoutOf } from '../../server/src/root/layout.js';
import { apiToken } from '../helpers/nas-auth.js';
import type { ChildProcess } from 'node:child_process';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function newRoot(): string {
  const t = tempDir('burrow-auth-cli-');
  cleanups.push(t.cleanup);
  const root = path.join(t.dir, 'nas');
  const init = burrow(['init', '--root', root]);
  expect(init.status, init.stderr).toBe(0);
  const cfg = path.join(root, '.burrow/config.yaml');
  // Sync on a free loopback port: these tests are about HTTP.
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('  host: 0.0.0.0\n  port: 7421', '  host: 127.0.0.1\n  port: 0').replace(/^( {2}dht:) true$/m, '$1 false').replace(/^( {2}lan:) true$/m, '$1 false'));
  writeFiles(path.join(root, 'files'), { 'docs/a.txt': 'aaa' });
  return root;
}

function setConfig(root: string, from: string, to: string): void {
  const cfg = path.join(root, '.burrow/config.yaml');
  const text = fs.readFileSync(cfg, 'utf8');
  expect(text).toContain(from);
  fs.writeFileSync(cfg, text.replace(from, to));
}

async function started(root: string, args: string[]): Promise<{ child: ChildProcess; stdout: () => string; stderr: () => string }> {
  const p = await burrowBackground(['start', '--root', root, '--port', '0', ...args], 'stop with Ctrl-C', { timeoutMs: 45_000 });
  cleanups.push(async () => {
    p.child.kill('SIGTERM');
    await exitOf(p.child);
  });
  return p;
}

/** GET over HTTPS trusting any certificate, returning the status and the certificate the server showed. */
function httpsGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; fingerprint: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false, headers }, (res) => {
      const fp = (res.socket as tls.TLSSocket).getPeerCertificate().fingerprint256;
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve({ status: res.statusCode!, fingerprint: fp, body: b }));
    });
    req.on('error', reject);
  });
}

describe('burrow init and burrow password', () => {
  it('init without a terminal says how to set the password; password reads it from standard input', async () => {
    const t = tempDir('burrow-auth-pw-');
    cleanups.push(t.cleanup);
    const root = path.join(t.dir, 'nas');
    const init = burrow(['init', '--root', root], { input: '' });
    expect(init.status).toBe(0);
    expect(init.stdout).toMatch(/burrow password --root/);
    expect(fs.existsSync(layoutOf(root).adminPassword)).toBe(false);
    expect((fs.statSync(layoutOf(root).apiToken).mode & 0o777).toString(8)).toBe('600');

    const short = burrow(['password', '--root', root], { input: 'short\n' });
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/at least 8 characters/);

    const set = burrow(['password', '--root', root], { input: 'first password here\n' });
    expect(set.status, set.stderr).toBe(0);
    const hashFile = layoutOf(root).adminPassword;
    expect((fs.statSync(hashFile).mode & 0o777).toString(8)).toBe('600');
    expect(fs.readFileSync(hashFile, 'utf8')).toMatch(/^scrypt\$/);
    expect(fs.readFileSync(hashFile, 'utf8')).not.toContain('first password here');
    expect(await checkAdminPassword(layoutOf(root), 'first password here')).toBe('ok');

    expect(burrow(['password', '--root', root], { input: 'second password here\n' }).status).toBe(0);
    expect(await checkAdminPassword(layoutOf(root), 'first password here')).toBe('wrong');
    expect(await checkAdminPassword(layoutOf(root), 'second password here')).toBe('ok');
  });
});

describe('the CLI and a running NAS', () => {
  it('burrow request and trash use .burrow/api-token; a wrong token is refused', async () => {
    const root = newRoot();
    await started(root, ['--host', '127.0.0.1']);
    const ok = burrow(['request', 'mkdir', 'docs', '--name', 'via-token', '--root', root, '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ state: 'done' }); // through HTTP: the running NAS holds the root lock
    expect(fs.statSync(path.join(root, 'files/docs/via-token')).isDirectory()).toBe(true);
    expect(burrow(['trash', 'list', '--root', root]).status).toBe(0);
    // The CLI reads the file at each call: a token the NAS does not know gets 401.
    fs.writeFileSync(layoutOf(root).apiToken, 'not-the-token\n');
    const refused = burrow(['request', 'mkdir', 'docs', '--name', 'refused', '--root', root]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/bearer token is not this NAS's API token/);
    expect(fs.existsSync(path.join(root, 'files/docs/refused'))).toBe(false);
  });

  it('an empty or invalid http.host is a config error naming the key', () => {
    const root = newRoot();
    setConfig(root, '  host: 127.0.0.1\n  # TCP port of the HTTP', '  host: ""\n  # TCP port of the HTTP');
    const empty = burrow(['start', '--root', root, '--port', '0']);
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/http\.host/);
    setConfig(root, '  host: ""', '  host: "not a host!"');
    const bad = burrow(['status', '--root', root]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/http\.host: "not a host!" is not an IP address or host name/);
    const flag = burrow(['start', '--root', newRoot(), '--port', '0', '--host', '']);
    expect(flag.status).toBe(1);
    expect(flag.stderr).toMatch(/http\.host/);
  });

  it('beyond loopback: plain HTTP is refused (or loudly opted out of); with TLS it works and status prints the fingerprint', async () => {
    const root = newRoot();
    setConfig(root, '  tls: auto', '  tls: off');
    const plain = burrow(['start', '--root', root, '--port', '0', '--host', '0.0.0.0']);
    expect(plain.status).toBe(1);
    expect(plain.stderr).toMatch(/Refusing to serve plain HTTP on 0\.0\.0\.0/);
    expect(plain.stderr).toMatch(/http\.tls/);
    setConfig(root, '  allowPlainHttpOnNetwork: false', '  allowPlainHttpOnNetwork: true');
    const optedOut = await started(root, ['--host', '0.0.0.0']);
    expect(optedOut.stderr()).toMatch(/INSECURE: serving plain HTTP on 0\.0\.0\.0/);
    optedOut.child.kill('SIGTERM');
    await exitOf(optedOut.child);

    setConfig(root, '  tls: off', '  tls: auto');
    setConfig(root, '  allowPlainHttpOnNetwork: true', '  allowPlainHttpOnNetwork: false');
    const nas = await started(root, ['--host', '0.0.0.0']);
    const url = /admin UI and API: (https:\/\/\S+?)\/?\n/.exec(nas.stdout())![1]!;
    const printed = /TLS certificate SHA-256 fingerprint: ([0-9A-F:]{95})/.exec(nas.stdout())![1]!;
    const local = url.replace('0.0.0.0', '127.0.0.1');
    const health = await httpsGet(`${local}/api/health`);
    expect(health.status).toBe(200);
    expect(health.fingerprint).toBe(printed);
    expect((await httpsGet(`${local}/api/status`)).status).toBe(401);
    expect((await httpsGet(`${local}/api/status`, { authorization: `Bearer ${apiToken(root)}` })).status).toBe(200);
    const status = burrow(['status', '--root', root]);
    expect(status.stdout).toContain(`TLS certificate SHA-256 fingerprint: ${printed}`);
    expect(JSON.parse(burrow(['status', '--root', root, '--json']).stdout).http).toMatchObject({ tls: true, fingerprint: printed });
    // The CLI talks HTTPS to it, pinning that certificate.
    const req = burrow(['request', 'mkdir', 'docs', '--name', 'over-tls', '--root', root, '--json']);
    expect(req.status, req.stderr).toBe(0);
    expect(fs.statSync(path.join(root, 'files/docs/over-tls')).isDirectory()).toBe(true);
    // Under TLS the session cookie is Secure.
    fs.writeFileSync(layoutOf(root).adminPassword, '');
    expect(burrow(['password', '--root', root], { input: 'a password for tls\n' }).status).toBe(0);
    const cookie = await new Promise<string>((resolve, reject) => {
      const r = https.request(`${local}/api/login`, { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(String(res.headers['set-cookie']?.[0] ?? `status ${res.statusCode}`));
      });
      r.on('error', reject);
      r.end(JSON.stringify({ password: 'a password for tls' }));
    });
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
  });
});
