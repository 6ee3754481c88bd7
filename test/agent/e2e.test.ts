import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { addDevice, cli, sameBytes, startAgent, startNas, stopProc, tempRoot, waitFor, type AgentHandle, type NasHandle } from './harness.js';

/**
 * The product's main story, end to end, with real processes on 127.0.0.1 and real Chromium:
 * a NAS and two device agents (alpha, beta), each in its own temp root.
 */
let base: string;
let nas: NasHandle;
let A: AgentHandle;
let B: AgentHandle;
let browser: Browser;
let pageA: Page;
let pageB: Page;
let joinA: string;

const nasFile = (rel: string) => path.join(nas.root, 'files', rel);
const nasLink = (dev: string, rel: string) => path.join(nas.root, 'devices', dev, rel);
const row = (rel: string) => `.row[data-path="${rel}"]`;

async function openCatalogue(agent: AgentHandle): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error (${agent.url}):`, e.message));
  await page.goto(agent.url);
  await page.waitForFunction(() => /device: (alpha|beta)/.test(document.getElementById('device')?.textContent ?? ''), null, { timeout: 45_000 });
  return page;
}

/** Reload; again when the page's own reload (it follows each new catalogue) aborted ours. */
async function reload(page: Page): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await page.reload();
      return;
    } catch (e) {
      if (i >= 3 || !/ERR_ABORTED|frame was detached/.test(String(e))) throw e;
    }
  }
}

async function rowVisible(page: Page, rel: string): Promise<void> {
  // Expand parent folders until the row is drawn (the page may reload itself meanwhile).
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    await page.waitForSelector(row(dir), { timeout: 45_000 });
    if ((await page.getAttribute(row(dir), 'aria-expanded')) !== 'true') await page.click(`${row(dir)} .tw`);
  }
  await page.waitForSelector(row(rel), { timeout: 45_000 }).catch(async (err: Error) => {
    // What the page showed instead, so a failure under load says more than "not visible".
    const seen = await page
      .evaluate(() => ({ rows: [...document.querySelectorAll('.row')].map((r) => r.getAttribute('data-path')).slice(0, 40), status: document.body.innerText.slice(0, 600) }))
      .catch((e: Error) => `unreadable: ${e.message}`);
    throw new Error(`${err.message}\nthe page showed: ${JSON.stringify(seen)}\nagent's catalogue/data: ${listData(page, rel)}`);
  });
}

/** The agent's catalogue data files with their sizes, and which name the missing row, for a failure message. */
function listData(page: Page, rel: string): string {
  const agent = [A, B].find((a) => page.url().startsWith(a.url));
  if (!agent) return '?';
  const dir = path.join(agent.root, 'catalogue', 'data');
  try {
    const files = fs.readdirSync(dir);
    const naming = files.filter((f) => fs.readFileSync(path.join(dir, f), 'utf8').includes(path.basename(rel)));
    return `${files.map((f) => `${f}:${fs.statSync(path.join(dir, f)).size}`).join(' ')}; naming ${rel}: ${naming.join(' ') || 'none'}`;
  } catch (e) {
    return (e as Error).message;
  }
}

async function clickGet(page: Page, rel: string): Promise<void> {
  await rowVisible(page, rel);
  await page.click(`${row(rel)} .lnk.get`);
  await page.waitForSelector('#veil:not([hidden]) #dlg-confirm.big');
  await page.click('#dlg-confirm');
}

async function boldOpen(page: Page, rel: string, timeout = 45_000): Promise<void> {
  await waitFor(`[open] bold for ${rel}`, async () => {
    await rowVisible(page, rel);
    return page.$(`${row(rel)} .lnk.open.strong`);
  }, timeout, 50);
}

async function boldGet(page: Page, rel: string, timeout = 45_000): Promise<void> {
  await waitFor(`[get] bold for ${rel}`, async () => {
    await rowVisible(page, rel);
    return page.$(`${row(rel)} .lnk.get.strong`);
  }, timeout, 50);
}

function rawGet(baseUrl: string, p: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: Number(u.port), path: p, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  base = tempRoot('burrow-e2e-');
  const nasRoot = path.join(base, 'nas');
  fs.mkdirSync(path.join(nasRoot, 'files', 'docs'), { recursive: true });
  fs.writeFileSync(path.join(nasRoot, 'files', 'hello.bin'), crypto.randomBytes(300_000));
  fs.writeFileSync(path.join(nasRoot, 'files', 'move-me.txt'), 'moving from alpha to beta\n');
  fs.writeFileSync(path.join(nasRoot, 'files', 'docs', 'a.txt'), 'first doc\n');
  const fd = fs.openSync(path.join(nasRoot, 'files', 'big.bin'), 'w');
  for (let i = 0; i < 4; i++) fs.writeSync(fd, crypto.randomBytes(16 * 1024 * 1024));
  fs.closeSync(fd);
  nas = await startNas(nasRoot);
  joinA = addDevice(nas.root, 'alpha');
  const joinB = addDevice(nas.root, 'beta');
  [A, B] = await Promise.all([startAgent(path.join(base, 'alpha'), joinA), startAgent(path.join(base, 'beta'), joinB)]);
  // Each device has its catalogue and knows who it is once the first sync is done.
  for (const a of [A, B]) {
    await waitFor('catalogue synced', () => fs.existsSync(path.join(a.root, 'catalogue', 'data', 'index.js')) && fs.existsSync(path.join(a.root, 'files', '.burrow', 'device.js')));
    await waitFor('catalogue lists the seed files', () => fs.readdirSync(path.join(a.root, 'catalogue', 'data')).length > 2 && fs.readFileSync(path.join(a.root, 'catalogue', 'data', 'summary.js'), 'utf8').includes('"files":4'));
  }
  browser = await launchBrowser();
  [pageA, pageB] = await Promise.all([openCatalogue(A), openCatalogue(B)]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([stopProc(A), stopProc(B)]);
  await stopProc(nas);
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe('device agent, end to end', () => {
  it('1-2: [get] in the catalogue brings the file to alpha; [open] turns bold there and only there', async () => {
    await rowVisible(pageA, 'hello.bin');
    expect(await pageA.$(`${row('hello.bin')} .lnk.get.strong`)).not.toBeNull();
    await clickGet(pageA, 'hello.bin');
    await waitFor('hello.bin on alpha', () => sameBytes(path.join(A.root, 'files', 'hello.bin'), nasFile('hello.bin')));
    await boldOpen(pageA, 'hello.bin');
    // The request shows as done on alpha's page (published by the NAS, relayed by the agent).
    await waitFor('request done', async () => (await pageA.textContent(`${row('hello.bin')}`))?.includes('done'), 45_000, 100);
    // beta still only has [get].
    await reload(pageB);
    await rowVisible(pageB, 'hello.bin');
    expect(await pageB.$(`${row('hello.bin')} .lnk.get.strong`)).not.toBeNull();
    expect(await pageB.$(`${row('hello.bin')} .lnk.open.strong`)).toBeNull();
    expect(fs.existsSync(path.join(B.root, 'files', 'hello.bin'))).toBe(false);
  });

  it('3: a folder got on alpha keeps receiving what is added to it on the NAS', async () => {
    await clickGet(pageA, 'docs');
    await waitFor('docs/a.txt on alpha', () => sameBytes(path.join(A.root, 'files', 'docs', 'a.txt'), nasFile('docs/a.txt')));
    fs.writeFileSync(nasFile('docs/b.txt'), 'added on the NAS later\n');
    await waitFor('docs/b.txt on alpha', () => sameBytes(path.join(A.root, 'files', 'docs', 'b.txt'), nasFile('docs/b.txt')), 45_000);
  });

  it('4: rm on alpha drops only alpha’s link; the store keeps the file and alpha’s page shows bold [get]', async () => {
    fs.rmSync(path.join(A.root, 'files', 'hello.bin'));
    await waitFor('NAS dropped alpha’s link', () => !fs.existsSync(nasLink('alpha', 'hello.bin')), 45_000);
    expect(fs.existsSync(nasFile('hello.bin'))).toBe(true);
    await boldGet(pageA, 'hello.bin', 45_000);
    // The page may reload itself right now (the catalogue changed): ask again rather than fail on a navigation.
    await waitFor('[open] not bold for hello.bin', async () => (await pageA.$(`${row('hello.bin')} .lnk.get.strong`)) && !(await pageA.$(`${row('hello.bin')} .lnk.open.strong`)), 45_000, 50);
  });

  it('5: move from alpha to beta: the file leaves alpha and arrives at beta', async () => {
    await clickGet(pageA, 'move-me.txt');
    await waitFor('move-me.txt on alpha', () => fs.existsSync(path.join(A.root, 'files', 'move-me.txt')));
    await boldOpen(pageA, 'move-me.txt');
    await pageA.click(`${row('move-me.txt')} .name`);
    await pageA.click('#menu button[data-action="move"]');
    await pageA.check('#dlg-body input[name=to][value="beta"]');
    await pageA.click('#dlg-confirm');
    await waitFor('move-me.txt on beta', () => sameBytes(path.join(B.root, 'files', 'move-me.txt'), nasFile('move-me.txt')), 45_000);
    await waitFor('move-me.txt gone from alpha', () => !fs.existsSync(path.join(A.root, 'files', 'move-me.txt')), 45_000);
    expect(fs.existsSync(nasFile('move-me.txt'))).toBe(true);
  });

  it('6: a file created on beta shows up in the catalogue on alpha', async () => {
    fs.writeFileSync(path.join(B.root, 'files', 'from-beta.txt'), 'made on beta\n');
    await waitFor('NAS adopted from-beta.txt', () => sameBytes(nasFile('from-beta.txt'), path.join(B.root, 'files', 'from-beta.txt')), 45_000);
    // The whole way back: the NAS adopts it, publishes, the catalogue syncs to alpha, the page reloads.
    await rowVisible(pageA, 'from-beta.txt');
    expect(await pageA.$(`${row('from-beta.txt')} .lnk.get.strong`)).not.toBeNull();
  });

  it('7: killing alpha’s agent mid-download and restarting it resumes the download', async () => {
    const size = fs.statSync(nasFile('big.bin')).size;
    const tmpDir = path.join(A.root, 'files', '.burrow-sync', 'tmp');
    const token = A.token();
    const res = await fetch(`${A.url}api/requests`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Burrow-Token': token },
      body: JSON.stringify({ id: crypto.randomUUID(), device: 'alpha', action: 'get', path: 'big.bin', args: {}, confirm: true }),
    });
    expect(res.status).toBe(202);
    // Wait until the agent has recorded a good part of the file, then kill it hard.
    const doneBlocks = await waitFor('a partial download on alpha', () => {
      for (const f of fs.existsSync(tmpDir) ? fs.readdirSync(tmpDir) : []) {
        if (!f.endsWith('.json')) continue;
        const n = (JSON.parse(fs.readFileSync(path.join(tmpDir, f), 'utf8')) as { done: number[] }).done.length;
        if (n >= 4) return n;
      }
      return 0;
    }, 60_000, 5);
    await stopProc(A, 'SIGKILL');
    expect(fs.existsSync(path.join(A.root, 'files', 'big.bin'))).toBe(false);
    A = await startAgent(A.root);
    await waitFor('big.bin complete on alpha', () => fs.existsSync(path.join(A.root, 'files', 'big.bin')), 60_000, 50);
    expect(sameBytes(path.join(A.root, 'files', 'big.bin'), nasFile('big.bin'))).toBe(true);
    // Resumed, not restarted: the restarted agent fetched less than the whole file.
    const st = JSON.parse(cli(['agent', 'status', '--root', A.root, '--json']).stdout) as { folders: Array<{ id: string; bytesDone: number }> };
    const fetched = st.folders.find((f) => f.id === 'files')!.bytesDone;
    expect(doneBlocks).toBeGreaterThan(0);
    expect(fetched).toBeLessThan(size);
    // A clean restart keeps everything: back in sync with the NAS without fetching a byte.
    await stopProc(A);
    A = await startAgent(A.root);
    type St = { pid: number; peers: Array<{ folder: string; bytesIn: number }>; folders: Array<{ id: string; inSync: boolean; bytesDone: number }> };
    const readSt = () => JSON.parse(fs.readFileSync(path.join(A.root, '.burrow-agent', 'status.json'), 'utf8')) as St;
    await waitFor('alpha connected and in sync after a restart', () => {
      const s = readSt();
      return s.pid === A.child.pid && s.peers.filter((p) => p.folder === 'files').length > 0 && s.folders.find((f) => f.id === 'files')?.inSync;
    }, 45_000, 100);
    await new Promise((r) => setTimeout(r, 2500)); // a status cycle after the index exchange
    const again = readSt();
    expect(again.folders.find((f) => f.id === 'files')!.bytesDone).toBe(0);
    // Only index records came in, not the 64 MB again.
    expect(again.peers.filter((p) => p.folder === 'files').reduce((a, p) => a + p.bytesIn, 0)).toBeLessThan(1024 * 1024);
    expect(sameBytes(path.join(A.root, 'files', 'big.bin'), nasFile('big.bin'))).toBe(true);
  }, 120_000);

  it('the local endpoint refuses other origins, missing tokens and foreign hosts', async () => {
    const body = JSON.stringify({ id: crypto.randomUUID(), device: 'alpha', action: 'get', path: 'docs/a.txt', args: {}, confirm: true });
    const post = (headers: Record<string, string>) => fetch(`${A.url}api/requests`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
    expect((await post({ 'X-Burrow-Token': A.token(), Origin: 'http://evil.example' })).status).toBe(403);
    expect((await post({})).status).toBe(403);
    expect((await post({ 'X-Burrow-Token': 'x'.repeat(32) })).status).toBe(403);
    // The token goes only with the one-time nonce of a catalogue page the agent served: not to
    // a plain local client, not to another site's <script> tag even with a nonce, and a nonce
    // opens it once. A rebound DNS name is refused by Host.
    for (const headers of [{}, { 'Sec-Fetch-Site': 'same-origin' }, { 'Sec-Fetch-Site': 'cross-site' }]) {
      const plain = await rawGet(A.url, '/agent.js', headers);
      expect(plain.status).toBe(200);
      expect(plain.body).not.toContain(A.token());
      expect(plain.body).toContain('open http://127.0.0.1:');
    }
    expect((await rawGet(A.url, '/agent.js?nonce=' + 'x'.repeat(24), {})).body).not.toContain(A.token());
    const nonceOf = async () => /\/agent\.js\?nonce=([\w-]+)/.exec((await rawGet(A.url, '/catalogue/catalogue.html', {})).body)![1]!;
    const n1 = await nonceOf();
    expect((await rawGet(A.url, `/agent.js?nonce=${n1}`, { 'Sec-Fetch-Site': 'cross-site' })).body).not.toContain(A.token());
    const n2 = await nonceOf();
    expect((await rawGet(A.url, `/agent.js?nonce=${n2}`, {})).body).toContain(A.token());
    expect((await rawGet(A.url, `/agent.js?nonce=${n2}`, {})).body).not.toContain(A.token());
    expect((await rawGet(A.url, '/agent.js', { Host: 'evil.example:80' })).status).toBe(421);
    // No CORS grant to anyone, "null" included, on any route; every answer forbids framing.
    for (const p of ['/api/health', '/api/status', '/catalogue/catalogue.html', '/catalogue/data/index.js', '/files/docs/a.txt', '/agent.js']) {
      const res = await fetch(`${A.url.replace(/\/$/, '')}${p}`, { headers: { Origin: 'null' } });
      expect(res.headers.get('access-control-allow-origin'), p).toBeNull();
      expect(res.headers.get('x-frame-options'), p).toBe('DENY');
      expect(res.headers.get('content-security-policy'), p).toContain("frame-ancestors 'none'");
    }
    const preflight = await fetch(`${A.url}api/requests`, { method: 'OPTIONS', headers: { Origin: 'null', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-burrow-token' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const before = fs.readFileSync(path.join(A.root, 'files', '.burrow', 'worklist.jsonl'), 'utf8');
    expect(before.includes('docs/a.txt"')).toBe(false);
  });

  it('a page opened from file:// (Origin null), or sandboxed, reads nothing from the agent and gets no token', async () => {
    const agentBase = A.url.replace(/\/$/, '');
    const dir = tempRoot('burrow-hostile-file-');
    // A downloaded HTML file: no CSP of its own, tries everything a page can.
    const probe = `
      window.results = {};
      async function tryRead(name, url, init) {
        try { const r = await fetch(url, init); results[name] = 'read ' + r.status + ' ' + (await r.text()).slice(0, 40); }
        catch (e) { results[name] = 'blocked'; }
      }
      window.done = (async () => {
        await tryRead('status', '${agentBase}/api/status');
        await tryRead('index', '${agentBase}/catalogue/data/index.js');
        await tryRead('file', '${agentBase}/files/docs/a.txt');
        await tryRead('page', '${agentBase}/catalogue/catalogue.html');
        await tryRead('post', '${agentBase}/api/requests', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Burrow-Token': 'guess' }, body: '{}' });
        await new Promise((res) => { const s = document.createElement('script'); s.src = '${agentBase}/agent.js'; s.onload = s.onerror = res; document.head.appendChild(s); });
        results.token = window.BURROW_AGENT ? 'leaked' : 'none';
      })();`;
    fs.writeFileSync(path.join(dir, 'evil.html'), `<!doctype html><html><head></head><body><script>${probe}</script>
      <iframe id="sb" sandbox="allow-scripts" srcdoc="<script>fetch('${agentBase}/api/status').then(r=>r.text()).then(t=>parent.postMessage('read '+t,'*'),()=>parent.postMessage('blocked','*'))</script>"></iframe>
      <script>window.sandboxed = new Promise((res) => addEventListener('message', (e) => res(e.data)));</script></body></html>`);
    const worklist = path.join(A.root, 'files', '.burrow', 'worklist.jsonl');
    const before = fs.readFileSync(worklist, 'utf8');
    const page = await browser.newPage();
    await page.goto(`file://${path.join(dir, 'evil.html')}`);
    await page.evaluate(() => (window as unknown as { done: Promise<void> }).done);
    const results = await page.evaluate(() => (window as unknown as { results: Record<string, string> }).results);
    expect(results).toEqual({ status: 'blocked', index: 'blocked', file: 'blocked', page: 'blocked', post: 'blocked', token: 'none' });
    expect(await page.evaluate(() => (window as unknown as { sandboxed: Promise<string> }).sandboxed)).toBe('blocked');
    expect(fs.readFileSync(worklist, 'utf8')).toBe(before);
    await page.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('no page on another port can frame the agent\'s catalogue', async () => {
    const framer = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html><iframe id="f" src="${A.url}catalogue/catalogue.html" width="800" height="600"></iframe>`);
    });
    await new Promise<void>((r) => framer.listen(0, '127.0.0.1', r));
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${(framer.address() as { port: number }).port}/`);
      const frame = await waitFor('the iframe', () => page.frames().find((f) => f !== page.mainFrame()));
      await frame.waitForLoadState('load').catch(() => undefined);
      // Give a catalogue that did load the time to draw its rows, then look: the frame is empty.
      await page.waitForTimeout(1500);
      expect(await frame.$('#tree').catch(() => null)).toBeNull();
      expect(await frame.$('.row').catch(() => null)).toBeNull();
    } finally {
      await page.close();
      await new Promise((r) => framer.close(r));
    }
  });

  it('the catalogue opened from file:// browses, and sends nothing', async () => {
    const page = await browser.newPage();
    const agentBase = A.url.replace(/\/$/, '');
    const worklist = path.join(A.root, 'files', '.burrow', 'worklist.jsonl');
    const readWorklist = () => (fs.existsSync(worklist) ? fs.readFileSync(worklist, 'utf8') : '');
    const before = readWorklist();
    await page.goto(`file://${path.join(A.root, 'catalogue', 'catalogue.html')}?agent=${encodeURIComponent(agentBase)}`);
    await page.waitForSelector(row('docs'));
    // The page's CSP allows only the agent's default port, and the agent grants no reads to
    // file:// pages: the page browses, says actions need the agent, and sends nothing.
    await waitFor('the browsing-only notice', async () => (await page.textContent('#agent'))?.includes('actions need the Burrow device agent'), 10_000, 100);
    await page.click(`${row('hello.bin')} .lnk.get`);
    await page.click('#veil:not([hidden]) #dlg-confirm');
    await waitFor('the "Nothing was sent" answer', async () => (await page.textContent('#dlg-title')) === 'Nothing was sent', 10_000, 100);
    expect(await page.textContent('#dlg-body')).toMatch(/Actions need the Burrow device agent running/);
    expect(readWorklist()).toBe(before);
    await page.close();
  });

  it('burrow agent status reports folders, peers, pending requests and the last error', () => {
    const r = cli(['agent', 'status', '--root', A.root, '--json']);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as { running: boolean; device: string; folders: Array<{ id: string }>; peers: unknown[]; pendingRequests: unknown[]; lastError: unknown; bytesLeft: number };
    expect(s.running).toBe(true);
    expect(s.device).toBe('alpha');
    expect(s.folders.map((f) => f.id).sort()).toEqual(['catalogue', 'files']);
    expect(s.peers.length).toBeGreaterThanOrEqual(2);
    expect(Array.isArray(s.pendingRequests)).toBe(true);
    expect('lastError' in s).toBe(true);
    const human = cli(['agent', 'status', '--root', A.root]);
    expect(human.stdout).toMatch(/device alpha: agent running/);
    expect(human.stdout).toMatch(/pending requests:/);
  });
});
