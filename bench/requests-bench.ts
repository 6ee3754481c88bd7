/**
 * npm run bench:requests — requests at 100,000 and 1,000,000 indexed files.
 *
 * 1. Latency: a line appended to a device's worklist → the hard link exists → the catalogue
 *    that shows it is published (p50/p95 over --requests requests, one at a time). The index
 *    rows are fabricated straight into SQLite (the catalogue and the processor only read the
 *    index); the files that are fetched are real.
 * 2. get of a real 10,000-file folder through the processor (validation, journal, links, index
 *    refresh, automatic-request hooks) vs `cp -al` of the same folder, in the same run.
 * Usage: node dist/bench/requests-bench.js [--sizes 100000,1000000] [--requests 200] [--publish-requests n] [--reps 5]
 *        [--no-catalogue] [--no-folder] [--folder-files 10000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { spawnSync } from 'node:child_process';
import { initRoot, openRoot, type OpenRoot } from '../server/src/root/open-root.js';
import { addDevice } from '../server/src/devices/add-device.js';
import { Indexer } from '../server/src/index/indexer.js';
import { createLogger } from '../server/src/log.js';
import { RequestsService } from '../server/src/requests/service.js';
import { worklistPath } from '../server/src/requests/worklist.js';
import type { NasContext, NasService } from '../server/src/nas-context.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const SIZES = arg('sizes', '100000,1000000').split(',').map(Number).filter((n) => n > 0);
const REQUESTS = Number(arg('requests', '200'));
/** Publishes after a few changes are incremental (milliseconds), so by default every request waits for its publish. */
const publishRequests = (_size: number) => Number(arg('publish-requests', String(REQUESTS)));
const REPS = Number(arg('reps', '5'));
const FOLDER_FILES = Number(arg('folder-files', '10000'));
/** --no-catalogue: link latency alone, without the publisher sharing the event loop. */
const WITH_CATALOGUE = !argv.includes('--no-catalogue');
const SKIP_FOLDER = argv.includes('--no-folder');
const log = (...m: unknown[]) => process.stderr.write(m.join(' ') + '\n');

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const median = (xs: number[]) => pct(xs, 50);
const ms = (x: number) => `${x.toFixed(1)} ms`;
const tick = () => new Promise<void>((r) => setImmediate(r));

interface Nas {
  r: OpenRoot;
  ctx: NasContext;
  svc: RequestsService;
  catalogue: (NasService & { publishCount: number; lastStats: { elapsedMs: number; writtenBytes: number; writtenFiles: number; mode: string; phases: { renderMs: number; writeMs: number } } | null }) | null;
  close(): Promise<void>;
}

async function openNas(root: string, withCatalogue: boolean): Promise<Nas> {
  const r = openRoot(root);
  const logger = createLogger('warn');
  const indexer = new Indexer(r.store, r.layout, { ...r.config.index, watch: false, hash: false, reconcileMinutes: 0 }, logger);
  const ctx: NasContext = { ...r, log: logger, indexer, events: new EventEmitter(), services: new Map() };
  const svc = new RequestsService();
  await svc.open(ctx);
  ctx.services.set('requests', svc);
  let catalogue: Nas['catalogue'] = null;
  if (withCatalogue) {
    try {
      const mod = (await import('../server/src/catalogue/service.js')) as { CatalogueService: new () => NonNullable<Nas['catalogue']> };
      catalogue = new mod.CatalogueService();
      await catalogue.open(ctx);
      ctx.services.set('catalogue', catalogue);
    } catch (err) {
      log(`catalogue service not available (${(err as Error).message}); reporting link latency only`);
    }
  }
  return {
    r,
    ctx,
    svc,
    catalogue,
    close: async () => {
      await catalogue?.close();
      await svc.close();
      await indexer.close();
      r.close();
    },
  };
}

/** Fabricated index rows under files/fab/ (100 files per folder), written in one transaction. */
function fabricate(r: OpenRoot, n: number): void {
  const ins = r.store.db.prepare(`INSERT INTO entries (area, path, parent, kind, size, mtime_ms, ino, dev, nlink, mode, uid, gid, link_target, error, seen_at)
    VALUES ('files', ?, ?, ?, ?, 1700000000000, ?, 1, 1, ?, 0, 0, NULL, NULL, 0)`);
  r.store.tx(() => {
    ins.run('fab', '', 'dir', 0, 900_000_000, 0o40755);
    for (let d = 0; d * 100 < n; d++) {
      const dir = `fab/d${String(d).padStart(5, '0')}`;
      ins.run(dir, 'fab', 'dir', 0, 900_000_001 + d, 0o40755);
      for (let f = 0; f < 100 && d * 100 + f < n; f++) ins.run(`${dir}/f${String(f).padStart(3, '0')}.bin`, dir, 'file', 1000 + f, 1_000_000_000 + d * 100 + f, 0o100644);
    }
  });
}

async function latency(size: number, tmp: string): Promise<Record<string, string>> {
  const root = path.join(tmp, `lat-${size}`);
  initRoot(root);
  {
    const r = openRoot(root);
    addDevice(r, 'phone', null);
    const t0 = performance.now();
    fabricate(r, size);
    for (let i = 0; i < REQUESTS; i++) fs.writeFileSync(path.join(r.layout.files, `real-${String(i).padStart(4, '0')}.txt`), `file ${i}\n`);
    const ix = new Indexer(r.store, r.layout, { ...r.config.index, watch: false, hash: false, reconcileMinutes: 0 }, createLogger('warn'));
    for (let i = 0; i < REQUESTS; i++) ix.refresh([path.join(r.layout.files, `real-${String(i).padStart(4, '0')}.txt`)]);
    await ix.close();
    log(`  ${size.toLocaleString()} rows fabricated + ${REQUESTS} real files in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    r.close();
  }
  const nas = await openNas(root, WITH_CATALOGUE);
  const wl = worklistPath(nas.r.layout, 'phone');
  fs.mkdirSync(path.dirname(wl), { recursive: true });
  nas.svc.pollAll();
  let firstPublishMs: number | null = null;
  if (nas.catalogue) {
    const t0 = performance.now();
    while (nas.catalogue.publishCount < 1) await new Promise((r) => setTimeout(r, 20));
    firstPublishMs = nas.catalogue.lastStats?.elapsedMs ?? null;
    log(`  first publish at ${size.toLocaleString()}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const link: number[] = [];
  const published: number[] = [];
  const pubCost: number[] = [];
  const pubBytes: number[] = [];
  const pubRender: number[] = [];
  const pubWrite: number[] = [];
  const pubModes = new Map<string, number>();
  for (let i = 0; i < REQUESTS; i++) {
    const name = `real-${String(i).padStart(4, '0')}.txt`;
    const target = path.join(nas.r.layout.device('phone'), name);
    const id = `bench-${size}-${i}`;
    let doneAt = 0;
    let countAtDone = 0;
    const cat = nas.catalogue as unknown as { publishCount: number; running: unknown } | null;
    const onUpdate = (e: { id: string }) => {
      if (e.id !== id || doneAt) return;
      const s = nas.svc.status(id);
      if (s?.state === 'done' || s?.state === 'failed') {
        doneAt = performance.now();
        // The publish that shows it is the first one that starts after the request is done.
        countAtDone = cat ? cat.publishCount + (cat.running ? 1 : 0) : 0;
      }
    };
    nas.ctx.events.on('request-updated', onUpdate);
    const t0 = performance.now();
    fs.appendFileSync(wl, JSON.stringify({ id, device: 'phone', action: 'get', path: name }) + '\n');
    while (!fs.existsSync(target)) await tick();
    link.push(performance.now() - t0);
    const measurePublish = cat && i < publishRequests(size);
    if (measurePublish) {
      while (!doneAt || cat.publishCount <= countAtDone) await new Promise((r) => setTimeout(r, 1));
      published.push(performance.now() - t0);
      const st = nas.catalogue!.lastStats!;
      pubCost.push(st.elapsedMs);
      pubBytes.push(st.writtenBytes);
      pubRender.push(st.phases.renderMs);
      pubWrite.push(st.phases.writeMs);
      pubModes.set(st.mode, (pubModes.get(st.mode) ?? 0) + 1);
    } else {
      while (!doneAt) await tick();
    }
    nas.ctx.events.off('request-updated', onUpdate);
  }
  const pubMs = nas.catalogue?.lastStats?.elapsedMs;
  await nas.close();
  fs.rmSync(root, { recursive: true, force: true });
  return {
    size: size.toLocaleString(),
    linkP50: ms(median(link)),
    linkP95: ms(pct(link, 95)),
    pubP50: published.length ? ms(median(published)) : 'n/a',
    pubP95: published.length ? ms(pct(published, 95)) : 'n/a',
    pubN: String(published.length),
    onePublish: pubMs !== undefined ? ms(pubMs) : 'n/a',
    pubCost: pubCost.length ? `${ms(median(pubCost))} / ${ms(pct(pubCost, 95))}` : 'n/a',
    pubBytes: pubBytes.length ? `${(median(pubBytes) / 1024).toFixed(1)} KiB / ${(pct(pubBytes, 95) / 1024).toFixed(1)} KiB` : 'n/a',
    pubPhases: pubRender.length ? `${ms(median(pubRender))} + ${ms(median(pubWrite))}` : 'n/a',
    pubModes: [...pubModes].map(([m, n]) => `${n} ${m}`).join(', ') || 'n/a',
    firstPublish: firstPublishMs !== null ? ms(firstPublishMs) : 'n/a',
  };
}

/** CPU time (user + system, ms) a child reported through GNU time's `-f '%U %S'` on its last stderr line. */
function cpuOfTimed(stderr: string): number {
  const last = stderr.trim().split('\n').pop() ?? '';
  const [u, s] = last.split(' ').map(Number);
  return ((u ?? NaN) + (s ?? NaN)) * 1000;
}

async function folderGet(tmp: string): Promise<{ burrow: number[]; cp: number[]; burrowCpu: number[]; cpCpu: number[] }> {
  const root = path.join(tmp, 'folder');
  initRoot(root);
  {
    const r = openRoot(root);
    for (let d = 0; d < FOLDER_FILES / 100; d++) {
      const dir = path.join(r.layout.files, 'big', `d${String(d).padStart(3, '0')}`);
      fs.mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(dir, `f${String(f).padStart(3, '0')}.dat`), `${d}/${f}`);
    }
    for (let i = 0; i < REPS; i++) addDevice(r, `dev${i}`, null);
    const ix = new Indexer(r.store, r.layout, { ...r.config.index, watch: false, hash: false, reconcileMinutes: 0 }, createLogger('warn'));
    ix.reconcile();
    await ix.close();
    r.close();
  }
  const nas = await openNas(root, false);
  const burrow: number[] = [];
  const cp: number[] = [];
  const burrowCpu: number[] = [];
  const cpCpu: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const cpDest = path.join(nas.r.layout.root, `cp-al-${i}`);
    const runCp = () => {
      const t0 = performance.now();
      // GNU time reports cp's own CPU time: on a loaded machine the steadier figure.
      const res = spawnSync('/usr/bin/time', ['-f', '%U %S', 'cp', '-al', path.join(nas.r.layout.files, 'big'), cpDest], { encoding: 'utf8' });
      if (res.status !== 0) throw new Error(`cp -al failed: ${res.stderr}`);
      cp.push(performance.now() - t0);
      cpCpu.push(cpuOfTimed(res.stderr));
    };
    const runGet = async () => {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const st = await nas.svc.submit({ id: `bench-folder-${i}`, device: `dev${i}`, action: 'get', path: 'big' }, 'http').done;
      burrow.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      burrowCpu.push((c.user + c.system) / 1000);
      if (st.state !== 'done') throw new Error(`get failed: ${st.reason}`);
    };
    // Alternate the order, so neither always runs with the warmer cache.
    if (i % 2 === 0) {
      runCp();
      await runGet();
    } else {
      await runGet();
      runCp();
    }
    const linked = fs.readdirSync(path.join(nas.r.layout.device(`dev${i}`), 'big')).length;
    if (linked !== FOLDER_FILES / 100) throw new Error(`get linked ${linked} folders`);
  }
  await nas.close();
  fs.rmSync(root, { recursive: true, force: true });
  return { burrow, cp, burrowCpu, cpCpu };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'burrow-requests-bench-'));
try {
  log(`requests bench, ${new Date().toISOString()}, ${os.cpus().length} cores, Node ${process.version}, tmp ${tmp}`);
  const folder = SKIP_FOLDER ? null : await folderGet(tmp);
  const rows: Array<Record<string, string>> = [];
  for (const size of SIZES) {
    log(`latency at ${size.toLocaleString()} indexed files…`);
    rows.push(await latency(size, tmp));
  }
  const out: string[] = [];
  out.push(`## Requests (${new Date().toISOString().slice(0, 16)} UTC, ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(" / ")} at the end)`, "");
  out.push(`### Worklist line → link → catalogue published (${REQUESTS} get requests one at a time; "requests timed to publish" = how many of them also waited for the publish)`, '');
  out.push('| indexed files | link p50 | link p95 | published p50 | published p95 | requests timed to publish | publish cost p50 / p95 | of which render + write (p50) | bytes written per publish p50 / p95 | publish modes | first (full) publish |', '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) out.push(`| ${r.size} | ${r.linkP50} | ${r.linkP95} | ${r.pubP50} | ${r.pubP95} | ${r.pubN} | ${r.pubCost} | ${r.pubPhases} | ${r.pubBytes} | ${r.pubModes} | ${r.firstPublish} |`);
  if (!WITH_CATALOGUE) out.push('', '(catalogue publisher not running in this run: link latency alone)');
  if (folder) {
    out.push('', `### get of a ${FOLDER_FILES.toLocaleString()}-file folder (100 folders) vs cp -al, ${REPS} repetitions`, '');
    out.push('| | median | min | max |', '|---|---|---|---|');
    out.push(`| burrow get (processor, journal, links, index refresh) | ${ms(median(folder.burrow))} | ${ms(Math.min(...folder.burrow))} | ${ms(Math.max(...folder.burrow))} |`);
    out.push(`| cp -al | ${ms(median(folder.cp))} | ${ms(Math.min(...folder.cp))} | ${ms(Math.max(...folder.cp))} |`);
    out.push(`| ratio (burrow / cp -al, medians) | ${(median(folder.burrow) / median(folder.cp)).toFixed(2)}x | | |`);
    out.push(`| CPU time: burrow / cp -al (medians) | ${ms(median(folder.burrowCpu))} / ${ms(median(folder.cpCpu))} = ${(median(folder.burrowCpu) / median(folder.cpCpu)).toFixed(2)}x | | |`);
  }
  process.stdout.write(out.join('\n') + '\n');
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
