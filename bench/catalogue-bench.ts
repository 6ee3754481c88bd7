/**
 * npm run bench:catalogue — the catalogue at 100,000 and 1,000,000 indexed files, side by side
 * with the naive form of the seed's page (one flat HTML list of links).
 *
 * Rows are fabricated straight into a temp SQLite store (the files themselves do not exist:
 * the catalogue only reads the index). Three devices hold some files by sharing inodes.
 * Usage: node dist/bench/catalogue-bench.js [--sizes 100000,1000000] [--reps 3]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { initRoot, openRoot, type OpenRoot } from '../server/src/root/open-root.js';
import { Publisher, type PublishStats } from '../server/src/catalogue/publish.js';
import type { EntryRow } from '../server/src/store/entries-repo.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const SIZES = arg('sizes', '100000,1000000').split(',').map(Number);
const REPS = Number(arg('reps', '3'));
const CHANGE_REPS = Number(arg('change-reps', '7'));
const NAIVE_REPS = (files: number) => Number(arg('naive-reps', files > 200_000 ? '1' : String(REPS)));
const NAIVE_TIMEOUT_MS = Number(arg('naive-timeout', '300')) * 1000;
const CHUNK_EVERY = args.includes('--chunk-every') ? Number(arg('chunk-every', '0')) : undefined;
/** --no-page: publish figures only (no Chromium), for a quick run at 1M on a loaded machine. */
const WITH_PAGE = !args.includes('--no-page');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mib = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
const log = (...m: unknown[]) => process.stderr.write(m.join(' ') + '\n');

/** Deterministic pseudo-random numbers, so every run fabricates the same store. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function row(area: string, p: string, kind: 'file' | 'dir', size: number, ino: number, mtime: number): EntryRow {
  const i = p.lastIndexOf('/');
  return { area, path: p, parent: i < 0 ? '' : p.slice(0, i), kind, size, mtime_ms: mtime, ino, dev: 1, nlink: 1, mode: kind === 'dir' ? 0o40755 : 0o100644, uid: 0, gid: 0, link_target: null, error: null };
}

/** Archive-<t>/year-<y>/album-<a>/IMG_<a>_<k>.jpg, 100 files per album; laptop holds ~10%, phone ~2%, tablet ~1%. */
function fabricate(r: OpenRoot, files: number): string[] {
  const rand = rng(files);
  const albumsTotal = Math.ceil(files / 100);
  const perYear = Math.max(1, Math.ceil(albumsTotal / 100));
  const paths: string[] = [];
  let ino = 1;
  const t0 = Date.now();
  const upsert = r.store.entries.upsert.bind(r.store.entries);
  r.store.tx(() => {
    for (const d of ['laptop', 'phone', 'tablet']) r.store.devices.add(d, null);
    const dirs = new Set<string>();
    const addDir = (p: string) => {
      if (dirs.has(p)) return;
      dirs.add(p);
      upsert(row('files', p, 'dir', 0, ino++, 1.6e12));
    };
    let made = 0;
    for (let a = 0; made < files; a++) {
      const year = Math.floor(a / perYear);
      const top = `Archive-${year % 10}`;
      const yd = `${top}/year-${2000 + Math.floor(year / 10)}`;
      const ad = `${yd}/album-${a}`;
      addDir(top);
      addDir(yd);
      addDir(ad);
      for (let k = 0; k < 100 && made < files; k++, made++) {
        const p = `${ad}/IMG_${a}_${k}.jpg`;
        const size = Math.floor(200_000 + rand() * 5_000_000);
        const mtime = 1.3e12 + Math.floor(rand() * 3e11);
        const myIno = ino++;
        upsert(row('files', p, 'file', size, myIno, mtime));
        const x = rand();
        if (x < 0.1) upsert(row('device:laptop', p, 'file', size, myIno, mtime));
        if (x > 0.98) upsert(row('device:phone', p, 'file', size, myIno, mtime));
        if (x > 0.4 && x < 0.41) upsert(row('device:tablet', p, 'file', size, myIno, mtime));
        paths.push(p);
      }
    }
  });
  log(`  fabricated ${files} files in ${Date.now() - t0} ms`);
  return paths;
}

/** The seed's page: one flat HTML list of every file, with its links. */
function naivePage(r: OpenRoot, device: string): string {
  const held = new Set<string>(r.store.db.prepare("SELECT dev || ':' || ino FROM entries WHERE area = ? AND kind = 'file'").pluck().all(`device:${device}`) as string[]);
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const parts = ['<!DOCTYPE html><html><head><meta charset="utf-8"><title>catalogue</title></head><body><ul>\n'];
  for (const [p, kind, , , dev, ino] of r.store.db.prepare("SELECT path, kind, size, mtime_ms, dev, ino FROM entries WHERE area = 'files' AND path != '' ORDER BY path").raw(true).iterate() as IterableIterator<[string, string, number, number, number, number]>) {
    const has = kind === 'file' && held.has(`${dev}:${ino}`);
    const href = '../files/' + p.split('/').map(encodeURIComponent).join('/');
    parts.push(`<li><a href="${esc(href)}">${esc(p)}</a> ${has ? '[get] <b>[open]</b>' : '<b>[get]</b> [open]'}</li>\n`);
  }
  parts.push('</ul></body></html>\n');
  return parts.join('');
}

const FIRST_ROW_PROBE = `
  window.__firstRow = null;
  new MutationObserver(function (_, obs) {
    if (window.__firstRow === null && document.querySelector('.row, li')) {
      window.__firstRow = performance.now();
      requestAnimationFrame(function () { window.__rowFrame = performance.now(); });
      obs.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
  window.__firstPaint = undefined;
  new PerformanceObserver(function (list) {
    list.getEntries().forEach(function (e) { if (e.name === 'first-contentful-paint') window.__firstPaint = e.startTime; });
  }).observe({ type: 'paint', buffered: true });
`;

interface BrowserFigures {
  firstRowMs: number;
  firstFrameMs: number;
  /** null: it had not finished loading when the time limit ran out. */
  loadedMs: number | null;
  heapMiB: number | null;
}

/** Predicates are functions, not strings: the catalogue's CSP forbids eval, and playwright evals strings. */
const isLoaded = {
  ours: () => document.documentElement.hasAttribute('data-loaded'),
  naive: () => document.readyState === 'complete',
};

async function measurePage(browser: Browser, url: string, loadedCheck: () => boolean, timeoutMs: number): Promise<BrowserFigures> {
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    await page.addInitScript(FIRST_ROW_PROBE);
    await page.goto(url, { waitUntil: 'commit', timeout: timeoutMs });
    await page.waitForFunction(() => (window as unknown as { __firstPaint?: number; __rowFrame?: number }).__firstPaint !== undefined && (window as unknown as { __rowFrame?: number }).__rowFrame !== undefined, undefined, { timeout: timeoutMs, polling: 20 });
    const first = await page.evaluate(() => {
      const w = window as unknown as { __firstRow: number; __firstPaint: number; __rowFrame: number };
      // Painted = the first frame that contains a row: the later of first-contentful-paint and the frame after the row appeared.
      return { row: w.__firstRow, frame: Math.max(w.__firstPaint, w.__rowFrame) };
    });
    try {
      await page.waitForFunction(loadedCheck, undefined, { timeout: timeoutMs, polling: 50 });
    } catch {
      return { firstRowMs: first.row, firstFrameMs: first.frame, loadedMs: null, heapMiB: null };
    }
    const loaded = await page.evaluate(() => {
      const w = window as unknown as { BURROW_LOADED_AT?: number };
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return w.BURROW_LOADED_AT ?? nav.loadEventEnd;
    });
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    return { firstRowMs: first.row, firstFrameMs: first.frame, loadedMs: loaded, heapMiB: heap.usedSize / 1048576 };
  } finally {
    await ctx.close();
  }
}

/** Type each query a key at a time; each keystroke's time covers search and drawing the results (with layout). */
async function measureSearch(page: Page, queries: string[]): Promise<number[]> {
  return (await page.evaluate((qs) => {
    const input = document.getElementById('q') as HTMLInputElement;
    const times: number[] = [];
    for (const q of qs) {
      for (let i = 1; i <= q.length; i++) {
        const t0 = performance.now();
        input.value = q.slice(0, i);
        input.dispatchEvent(new Event('input'));
        void document.body.offsetHeight;
        times.push(performance.now() - t0);
      }
      input.value = '';
      input.dispatchEvent(new Event('input'));
    }
    return times;
  }, queries)) as number[];
}

interface SizeResult {
  files: number;
  publishMs: number;
  changeMsMedian: number;
  changeCpuMedian: number;
  changeCpuMax: number;
  changeMsMax: number;
  changeModes: string;
  totalBytes: number;
  chunks: number;
  addBytes: number;
  addBytesMax: number;
  deviceBytes: number;
  deviceBytesMax: number;
  ours: BrowserFigures;
  searchMedianMs: number;
  searchP95Ms: number;
  searchMaxMs: number;
  naiveBytes: number;
  naive: BrowserFigures | null;
}

async function benchSize(browser: Browser, files: number): Promise<SizeResult> {
  log(`\n== ${files.toLocaleString()} files ==`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'burrow-catbench-'));
  try {
    const root = path.join(tmp, 'nas');
    initRoot(root);
    const r = openRoot(root);
    const paths = fabricate(r, files);
    const input = { store: r.store, trashDays: 7, chunkEvery: CHUNK_EVERY };

    const publishTimes: number[] = [];
    let stats: PublishStats | null = null;
    let publisher = new Publisher(r.layout);
    for (let i = 0; i < REPS; i++) {
      fs.rmSync(r.layout.catalogue, { recursive: true, force: true });
      publisher = new Publisher(r.layout);
      stats = publisher.publish(input);
      publishTimes.push(stats.elapsedMs);
      log(`  publish ${i + 1}: ${stats.elapsedMs} ms, ${mib(stats.totalBytes)} in ${stats.totalFiles} files`);
    }
    const full = stats!;

    // One file added, at random places in the tree.
    const rand = rng(7);
    const adds: number[] = [];
    const changeMs: number[] = [];
    /** CPU time of the same publishes (this thread does nothing else meanwhile): their cost without the machine's load. */
    const changeCpu: number[] = [];
    const timed = (f: () => PublishStats): PublishStats => {
      const c0 = process.cpuUsage();
      const s = f();
      const c = process.cpuUsage(c0);
      changeCpu.push((c.user + c.system) / 1000);
      return s;
    };
    const modes = new Set<string>();
    let ino = 10_000_000;
    for (let i = 0; i < CHANGE_REPS; i++) {
      const near = paths[Math.floor(rand() * paths.length)]!;
      const p = near.replace(/\.jpg$/, `-new${i}.jpg`);
      r.store.entries.upsert(row('files', p, 'file', 123_456, ino++, 1.7e12));
      // The index's change feed names the path, as the indexer's 'changed' event does on a NAS.
      const s = timed(() => publisher.publish({ ...input, changes: [{ area: 'files', path: p }] }));
      adds.push(s.writtenBytes);
      changeMs.push(s.elapsedMs);
      modes.add(s.mode);
      log(`  add ${p}: ${s.mode} publish ${s.elapsedMs} ms (render ${s.phases.renderMs}, write ${s.phases.writeMs}; ${s.rowsRead} rows read), rewrote ${s.writtenFiles} files, ${kib(s.writtenBytes)} (${s.written.join(' ')})`);
    }
    // One file's device set changes (the phone gets a file).
    const devs: number[] = [];
    const byPath = r.store.db.prepare("SELECT ino, size, mtime_ms FROM entries WHERE area = 'files' AND path = ?");
    const onPhone = r.store.db.prepare("SELECT 1 FROM entries WHERE area = 'device:phone' AND path = ?").pluck();
    for (let i = 0; i < CHANGE_REPS; i++) {
      let p = paths[Math.floor(rand() * paths.length)]!;
      while (onPhone.get(p)) p = paths[Math.floor(rand() * paths.length)]!;
      const e = byPath.get(p) as { ino: number; size: number; mtime_ms: number };
      r.store.entries.upsert(row('device:phone', p, 'file', e.size, e.ino, e.mtime_ms));
      const s = timed(() => publisher.publish({ ...input, changes: [{ area: 'device:phone', path: p }] }));
      devs.push(s.writtenBytes);
      changeMs.push(s.elapsedMs);
      modes.add(s.mode);
      log(`  phone gets ${p}: ${s.mode} publish ${s.elapsedMs} ms (render ${s.phases.renderMs}, write ${s.phases.writeMs}; ${s.rowsRead} rows read), rewrote ${s.writtenFiles} files, ${kib(s.writtenBytes)}`);
    }

    if (!WITH_PAGE) {
      r.close();
      const none: BrowserFigures = { firstRowMs: NaN, firstFrameMs: NaN, loadedMs: NaN, heapMiB: NaN };
      return { files, publishMs: median(publishTimes), changeMsMedian: median(changeMs), changeCpuMedian: median(changeCpu), changeCpuMax: Math.max(...changeCpu), changeMsMax: Math.max(...changeMs), changeModes: [...modes].join('+'), totalBytes: full.totalBytes, chunks: full.chunks, addBytes: median(adds), addBytesMax: Math.max(...adds), deviceBytes: median(devs), deviceBytesMax: Math.max(...devs), ours: none, searchMedianMs: NaN, searchP95Ms: NaN, searchMaxMs: NaN, naiveBytes: 0, naive: null };
    }
    // Our page, from file://, as the device "laptop" would open it.
    const url = pathToFileURL(path.join(r.layout.catalogue, 'catalogue.html')).href + '?device=laptop';
    const ourRuns: BrowserFigures[] = [];
    for (let i = 0; i < REPS; i++) {
      const f = await measurePage(browser, url, isLoaded.ours, 300_000);
      log(`  ours: first row ${f.firstRowMs.toFixed(0)} ms, painted ${f.firstFrameMs.toFixed(0)} ms, all loaded ${f.loadedMs?.toFixed(0)} ms, heap ${f.heapMiB?.toFixed(1)} MiB`);
      ourRuns.push(f);
    }
    // Search: type real queries a key at a time.
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(url);
    await page.waitForFunction(isLoaded.ours, undefined, { timeout: 300_000 });
    const album = Math.floor(files / 100 / 2);
    const queries = [`IMG_${album}_42`, 'album-7/img', 'year-2003 _17.jpg', 'no-such-name-anywhere', 'jpg'];
    const times: number[] = [];
    for (let i = 0; i < REPS; i++) times.push(...(await measureSearch(page, queries)));
    await ctx.close();
    const sorted = [...times].sort((a, b) => a - b);
    log(`  search: median ${median(times).toFixed(1)} ms, p95 ${sorted[Math.floor(sorted.length * 0.95)]!.toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms over ${times.length} keystrokes`);

    // The naive page for the same store.
    const naive = naivePage(r, 'laptop');
    const naiveFile = path.join(r.layout.catalogue, 'naive.html');
    fs.writeFileSync(naiveFile, naive);
    const naiveBytes = Buffer.byteLength(naive);
    const naiveRuns: BrowserFigures[] = [];
    for (let i = 0; i < NAIVE_REPS(files); i++) {
      try {
        const f = await measurePage(browser, pathToFileURL(naiveFile).href, isLoaded.naive, NAIVE_TIMEOUT_MS);
        log(`  naive: first row ${f.firstRowMs.toFixed(0)} ms, painted ${f.firstFrameMs.toFixed(0)} ms, load ${f.loadedMs === null ? `not finished after ${NAIVE_TIMEOUT_MS / 1000} s` : f.loadedMs.toFixed(0) + ' ms'}, heap ${f.heapMiB?.toFixed(1)} MiB`);
        naiveRuns.push(f);
      } catch (err) {
        log(`  naive page failed: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    r.close();
    const med = (runs: BrowserFigures[], k: keyof BrowserFigures): number | null => {
      const xs = runs.map((x) => x[k]);
      return xs.some((x) => x === null) ? null : median(xs as number[]);
    };
    const fig = (runs: BrowserFigures[]): BrowserFigures | null =>
      runs.length ? { firstRowMs: med(runs, 'firstRowMs')!, firstFrameMs: med(runs, 'firstFrameMs')!, loadedMs: med(runs, 'loadedMs'), heapMiB: med(runs, 'heapMiB') } : null;
    return {
      files,
      publishMs: median(publishTimes),
      changeMsMedian: median(changeMs),
      changeCpuMedian: median(changeCpu),
      changeCpuMax: Math.max(...changeCpu),
      changeMsMax: Math.max(...changeMs),
      changeModes: [...modes].join('+'),
      totalBytes: full.totalBytes,
      chunks: full.chunks,
      addBytes: median(adds),
      addBytesMax: Math.max(...adds),
      deviceBytes: median(devs),
      deviceBytesMax: Math.max(...devs),
      ours: fig(ourRuns)!,
      searchMedianMs: median(times),
      searchP95Ms: sorted[Math.floor(sorted.length * 0.95)]!,
      searchMaxMs: sorted[sorted.length - 1]!,
      naiveBytes,
      naive: fig(naiveRuns),
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const browser = WITH_PAGE ? await chromium.launch({ executablePath: process.env.BURROW_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS }) : (null as unknown as Browser);
  const results: SizeResult[] = [];
  try {
    for (const n of SIZES) results.push(await benchSize(browser, n));
  } finally {
    await browser?.close();
  }
  const out: string[] = [];
  out.push(`## Catalogue benchmark (${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, Node ${process.version}, medians of ${REPS} runs; changes: medians of ${CHANGE_REPS})`);
  out.push('');
  out.push('| files | what | Burrow catalogue | naive flat HTML list | ratio (naive / Burrow) | goal |');
  out.push('|---:|---|---:|---:|---:|---|');
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}×` : 'n/a');
  for (const x of results) {
    const f = x.files.toLocaleString('en-US');
    const nv = x.naive;
    out.push(`| ${f} | publish time, full build | ${(x.publishMs / 1000).toFixed(2)} s | — | — | |`);
    out.push(`| ${f} | publish time after one change (${x.changeModes}; median / max) | ${x.changeMsMedian.toFixed(1)} / ${x.changeMsMax.toFixed(1)} ms | — | ${ratio(x.publishMs, x.changeMsMedian)} faster than full | milliseconds |`);
    out.push(`| ${f} | CPU time of that publish (median / max) | ${x.changeCpuMedian.toFixed(1)} / ${x.changeCpuMax.toFixed(1)} ms | — | — | |`);
    out.push(`| ${f} | total bytes | ${mib(x.totalBytes)} (${x.chunks} shards) | ${mib(x.naiveBytes)} | ${ratio(x.naiveBytes, x.totalBytes)} | |`);
    out.push(`| ${f} | bytes rewritten, one file added | ${kib(x.addBytes)} (${((100 * x.addBytes) / x.totalBytes).toFixed(2)} %; max ${kib(x.addBytesMax)}) | ${mib(x.naiveBytes)} | ${ratio(x.naiveBytes, x.addBytes)} | ≤ 1 % and ≤ 256 KiB |`);
    out.push(`| ${f} | bytes rewritten, one file's devices change | ${kib(x.deviceBytes)} (${((100 * x.deviceBytes) / x.totalBytes).toFixed(2)} %; max ${kib(x.deviceBytesMax)}) | ${mib(x.naiveBytes)} | ${ratio(x.naiveBytes, x.deviceBytes)} | ≤ 1 % and ≤ 256 KiB |`);
    if (!WITH_PAGE) continue;
    out.push(`| ${f} | navigation → first rows in the DOM (file://) | ${x.ours.firstRowMs.toFixed(0)} ms | ${nv ? nv.firstRowMs.toFixed(0) + ' ms' : 'not run'} | ${nv ? ratio(nv.firstRowMs, x.ours.firstRowMs) : '—'} | |`);
    out.push(`| ${f} | navigation → first rows painted (first-contentful-paint) | ${x.ours.firstFrameMs.toFixed(0)} ms | ${nv ? nv.firstFrameMs.toFixed(0) + ' ms' : 'not run'} | ${nv ? ratio(nv.firstFrameMs, x.ours.firstFrameMs) : '—'} | ≤ 1.5 s at 1M |`);
    const notDone = `not finished after ${NAIVE_TIMEOUT_MS / 1000} s`;
    out.push(`| ${f} | navigation → every path loaded (ours: search ready; naive: load event) | ${x.ours.loadedMs!.toFixed(0)} ms | ${nv ? (nv.loadedMs === null ? notDone : nv.loadedMs.toFixed(0) + ' ms') : 'not run'} | ${nv && nv.loadedMs !== null ? ratio(nv.loadedMs, x.ours.loadedMs!) : nv ? `> ${ratio(NAIVE_TIMEOUT_MS, x.ours.loadedMs!)}` : '—'} | |`);
    out.push(`| ${f} | search, per keystroke (median / p95 / max) | ${x.searchMedianMs.toFixed(1)} / ${x.searchP95Ms.toFixed(1)} / ${x.searchMaxMs.toFixed(1)} ms | no search | — | ≤ 100 ms at 1M |`);
    out.push(`| ${f} | JS heap after load (after GC) | ${x.ours.heapMiB!.toFixed(1)} MiB | ${nv && nv.heapMiB !== null ? nv.heapMiB.toFixed(1) + ' MiB' : '—'} | — | |`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
