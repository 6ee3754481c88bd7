/**
 * bench:phone — the phone web app (issue 18): from a click on [get] (and its confirm) to [open]
 * bold, that is the whole file in the browser's Origin Private File System, for a 1 MB and a
 * 100 MB file, on loopback over HTTPS: a real NAS process, real Chromium (390×844), the real
 * page. Side by side in the same run: plain `curl` downloading the same file from the same NAS
 * (the same device route and credential) into a file, as the phone stores it.
 *
 * Goals: ≤ 1.2× curl's time at 100 MB; ≤ 1 s at 1 MB.
 * Usage: npm run bench:phone [-- --reps-small 5 --reps-large 3 --large-mb 100]
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { chromium, type Page } from 'playwright-core';
import { cli, tempRoot, waitFor, REPO } from '../test/agent/harness.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const REPS_SMALL = arg('--reps-small', 5);
const REPS_LARGE = arg('--reps-large', 3);
const LARGE_MB = arg('--large-mb', 100);
const MB = 1024 * 1024;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function writeRandom(file: string, bytes: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  for (let left = bytes; left > 0; left -= Math.min(left, 8 * MB)) fs.writeSync(fd, crypto.randomBytes(Math.min(left, 8 * MB)));
  fs.closeSync(fd);
}

async function main(): Promise<void> {
  const dir = tempRoot('burrow-bench-phone-');
  const root = path.join(dir, 'nas');
  const init = cli(['init', '--root', root]);
  if (init.status !== 0) throw new Error(init.stderr);
  const cfgFile = path.join(root, '.burrow', 'config.yaml');
  fs.writeFileSync(
    cfgFile,
    fs
      .readFileSync(cfgFile, 'utf8')
      .replace(/^( {2}tls:) auto$/m, '$1 on')
      .replace(/^( {2}dht:) true$/m, '$1 false')
      .replace(/^( {2}lan:) true$/m, '$1 false')
      .replace(/^( {2}debounceMs:) 300$/m, '$1 50'),
  );
  writeRandom(path.join(root, 'files/bench/small.bin'), 1 * MB);
  writeRandom(path.join(root, 'files/bench/large.bin'), LARGE_MB * MB);
  const nas = spawn(process.execPath, [path.join(REPO, 'bin/burrow.js'), 'start', '--root', root, '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, BURROW_LOG_LEVEL: 'warn' } });
  const rtFile = path.join(root, '.burrow', 'http.json');
  // A NAS that never listens is stopped here, not left running.
  const rt = await waitFor('the NAS to listen', () => (fs.existsSync(rtFile) ? (JSON.parse(fs.readFileSync(rtFile, 'utf8')) as { port: number; pid: number }) : null), 180_000, 100).catch((err: unknown) => {
    nas.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const url = `https://127.0.0.1:${rt.port}`;
  const certFile = path.join(root, '.burrow', 'tls', 'cert.pem');
  const pem = fs.readFileSync(certFile, 'utf8');
  const spki = crypto.createHash('sha256').update(new crypto.X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  const token = fs.readFileSync(path.join(root, '.burrow', 'api-token'), 'utf8').trim();

  const executablePath = process.env.BURROW_CHROMIUM ?? '/usr/bin/chromium';
  const version = spawnSync(executablePath, ['--version'], { encoding: 'utf8' }).stdout.trim();
  // A persistent profile, as a phone's browser has: in an off-the-record context (Playwright's
  // newContext) Chromium keeps the Origin Private File System in memory, where writing 100 MB
  // took 0.9-1.5 s against 0.05-0.2 s on disk (a worker's sync access handle, same Chromium).
  const ctx = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
    executablePath,
    args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${spki}`],
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
  });
  try {
    const link = JSON.parse(cli(['device', 'add', 'phone', '--web', '--json', '--root', root]).stdout) as { url: string };
    const page = await ctx.newPage();
    await page.goto(link.url);
    await page.waitForFunction(() => document.documentElement.hasAttribute('data-loaded'), undefined, { timeout: 60_000 });
    const cookie = (await ctx.cookies(url)).find((c) => c.name.endsWith('burrow-device'))!;

    const owner = async (body: Record<string, unknown>) => {
      // Node's fetch would refuse the self-signed certificate; curl is told to trust exactly it.
      const r = spawnSync('curl', ['-s', '--cacert', certFile, '-H', `authorization: Bearer ${token}`, '-H', 'content-type: application/json', '--data', JSON.stringify(body), `${url}/api/requests?wait=60000`], { encoding: 'utf8' });
      return JSON.parse(r.stdout) as { state: string; reason?: string };
    };
    const rowState = (p: string) =>
      page.evaluate((want) => {
        const r = Array.from(document.querySelectorAll<HTMLElement>('.row')).find((x) => x.dataset.path === want);
        if (!r) return 'missing';
        return Number(getComputedStyle(r.querySelector('.open')!).fontWeight) >= 700 ? 'bold' : 'plain';
      }, p);
    const showRow = async (p: string) =>
      waitFor(`row ${p}`, async () => {
        try {
          return await page.evaluate((want) => {
            if (!document.documentElement.hasAttribute('data-loaded')) return false;
            const rows = () => Array.from(document.querySelectorAll<HTMLElement>('.row'));
            const dirRow = rows().find((x) => x.dataset.path === 'bench');
            if (dirRow && dirRow.getAttribute('aria-expanded') !== 'true') (dirRow.querySelector('.tw') as HTMLElement).click();
            return rows().some((x) => x.dataset.path === want);
          }, p);
        } catch {
          return false;
        }
      }, 60_000, 50);
    const settle = async (p: string) => {
      // Not on the phone, and the page idle (no reload pending), before the next click.
      await waitFor(`${p} gone`, async () => {
        try {
          await showRow(p);
          return (await rowState(p)) === 'plain' && !(await page.evaluate(() => (window as unknown as { BURROW_WEBAPP: { state: { active: unknown } } }).BURROW_WEBAPP.state.active));
        } catch {
          return false;
        }
      }, 60_000, 100);
      await new Promise((r) => setTimeout(r, 3000)); // let the page's live reload after the republish happen now, not mid-measurement
      await showRow(p);
    };

    const clickToBold = async (p: string): Promise<number> => {
      await settle(p);
      const t0 = performance.now();
      await page.evaluate((want) => {
        const r = Array.from(document.querySelectorAll<HTMLElement>('.row')).find((x) => x.dataset.path === want)!;
        (r.querySelector('.get') as HTMLElement).click();
        (document.getElementById('dlg-confirm') as HTMLElement).click();
      }, p);
      await page.waitForFunction(
        (want) => {
          const r = Array.from(document.querySelectorAll<HTMLElement>('.row')).find((x) => x.dataset.path === want);
          return !!r && Number(getComputedStyle(r.querySelector('.open')!).fontWeight) >= 700;
        },
        p,
        { polling: 'raf', timeout: 600_000 },
      );
      const ms = performance.now() - t0;
      const del = await owner({ id: crypto.randomUUID(), device: 'phone', action: 'delete', path: p, confirm: true, args: {} });
      if (del.state !== 'done') throw new Error(`delete ${p}: ${del.state} ${del.reason ?? ''}`);
      return ms;
    };

    const curlMs = (p: string): number => {
      const out = path.join(dir, 'curl.out');
      const t0 = performance.now();
      const r = spawnSync('curl', ['-s', '--fail', '--cacert', certFile, '-b', `${cookie.name}=${cookie.value}`, '-o', out, `${url}/app/api/file/${p}`]);
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`curl ${p}: exit ${r.status} ${r.stderr}`);
      fs.rmSync(out);
      return ms;
    };

    // The device folder must hold the file for the device route to serve it to curl: get it, curl it, delete it.
    const curlRun = async (p: string): Promise<number> => {
      const g = await owner({ id: crypto.randomUUID(), device: 'phone', action: 'get', path: p, confirm: true, args: {} });
      if (g.state !== 'done') throw new Error(`get ${p}: ${g.state} ${g.reason ?? ''}`);
      // curl only: keep the page from downloading it meanwhile.
      const ms = curlMs(p);
      return ms;
    };

    // The floor under the web app: the same browser fetching the same file from the same route,
    // reading and dropping the bytes (no storage, no request, no app), timed inside the page. It
    // runs on a same-origin page that is not the app (its icon), so the app does not download too.
    const bareFetchMs = async (p: string): Promise<number> => {
      await waitFor('a same-origin page', () => page.goto(`${url}/app/icon.svg`).then(() => true, () => false), 60_000, 200);
      return page.evaluate(async (u) => {
        const t0 = performance.now();
        const res = await fetch(u, { credentials: 'same-origin', cache: 'no-store' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const reader = res.body!.getReader();
        while (!(await reader.read()).done);
        return performance.now() - t0;
      }, `${url}/app/api/file/${p}`);
    };

    const results: Array<{ size: string; burrowMs: number[]; curlMs: number[]; bareMs: number[] }> = [];
    for (const [label, p, reps] of [
      ['1 MB', 'bench/small.bin', REPS_SMALL],
      [`${LARGE_MB} MB`, 'bench/large.bin', REPS_LARGE],
    ] as const) {
      const b: number[] = [];
      const c: number[] = [];
      const f: number[] = [];
      for (let i = 0; i < reps; i++) {
        b.push(await clickToBold(p));
        await waitFor('a blank page', () => page.goto('about:blank').then(() => true, () => false), 60_000, 200); // the web app is closed while curl runs, so it does not download the same file
        c.push(await curlRun(p));
        f.push(await bareFetchMs(p));
        await owner({ id: crypto.randomUUID(), device: 'phone', action: 'delete', path: p, confirm: true, args: {} });
        await waitFor('the app page', () => page.goto(`${url}/app/c/catalogue.html`).then(() => true, () => false), 60_000, 200);
        process.stderr.write(`${label} run ${i + 1}/${reps}: click→[open] bold ${b.at(-1)!.toFixed(0)} ms, curl ${c.at(-1)!.toFixed(0)} ms, Chromium bare fetch ${f.at(-1)!.toFixed(0)} ms\n`);
      }
      results.push({ size: label, burrowMs: b, curlMs: c, bareMs: f });
    }
    const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
    const lines = [`bench:phone ${new Date().toISOString()} — load average ${load}, ${os.cpus().length} cores, HTTPS on loopback, ${version}, persistent profile`];
    lines.push('| file | click → [open] bold (median) | curl same file, same NAS (median) | ratio | Chromium bare fetch, same route (median) | its ratio to curl | runs (app / curl / bare fetch) |');
    lines.push('|---|---|---|---|---|---|---|');
    const all = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    for (const r of results) {
      const bm = median(r.burrowMs);
      const cm = median(r.curlMs);
      const fm = median(r.bareMs);
      lines.push(`| ${r.size} | ${bm.toFixed(0)} ms | ${cm.toFixed(0)} ms | ${(bm / cm).toFixed(2)}× | ${fm.toFixed(0)} ms | ${(fm / cm).toFixed(2)}× | ${r.burrowMs.length}: ${all(r.burrowMs)} / ${all(r.curlMs)} / ${all(r.bareMs)} |`);
    }
    process.stdout.write(lines.join('\n') + '\n');
    process.stdout.write(JSON.stringify({ loadAverage: os.loadavg(), results }) + '\n');
  } finally {
    await ctx.close();
    nas.kill('SIGTERM');
    await new Promise((r) => nas.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench:phone failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
