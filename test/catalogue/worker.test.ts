import fs from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, test } from 'vitest';
import { makeFixture, addDevices, type Fixture } from './fixture.js';
import { decodeCatalogue } from './decode.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import type { CatalogueService } from '../../server/src/catalogue/service.js';
import { publishCatalogue } from '../../server/src/catalogue/publish.js';
import { openRoot } from '../../server/src/root/open-root.js';
import { parentOf } from '../../server/src/store/entries-repo.js';

// These run the compiled worker from dist/: build first (npm test does).
let f: Fixture | undefined;
let nas: RunningNas | undefined;
afterEach(async () => {
  await nas?.stop();
  nas = undefined;
  f?.cleanup();
  f = undefined;
});

async function start(): Promise<CatalogueService> {
  f!.r.close();
  nas = await startNas(f!.root, { port: 0, watch: false, hash: false });
  const svc = nas.ctx.services.get('catalogue') as CatalogueService;
  await svc.publishNow();
  return svc;
}

/** Index rows for `n` files that exist only in the index (after the NAS reconciled), cheap to make by the ten thousand. */
function addSyntheticRows(n: number): void {
  const store = nas!.ctx.store;
  store.tx(() => {
    for (let d = 0; d < n / 100; d++) {
      const dir = `bulk/d${String(d).padStart(4, '0')}`;
      if (d === 0) store.entries.upsert({ area: 'files', path: 'bulk', parent: '', kind: 'dir', size: 0, mtime_ms: 1e12, ino: 0, dev: 0, nlink: 1, mode: 0, uid: 0, gid: 0, link_target: null, error: null });
      store.entries.upsert({ area: 'files', path: dir, parent: 'bulk', kind: 'dir', size: 0, mtime_ms: 1e12, ino: 0, dev: 0, nlink: 1, mode: 0, uid: 0, gid: 0, link_target: null, error: null });
      for (let i = 0; i < 100; i++) {
        const p = `${dir}/file-${i}-${'x'.repeat(20)}.bin`;
        store.entries.upsert({ area: 'files', path: p, parent: parentOf(p), kind: 'file', size: 1000 + i, mtime_ms: 1e12 + i, ino: 1e9 + d * 100 + i, dev: 1, nlink: 1, mode: 0o644, uid: 0, gid: 0, link_target: null, error: null });
      }
    }
  });
}

describe('the catalogue publishes on a worker thread', () => {
  test('one long-lived worker, not the main thread, writes the same bytes as an in-process publish', async () => {
    f = makeFixture();
    addDevices(f, 'a', 'b');
    f.write('docs/one.txt');
    f.write('two.txt');
    f.link('two.txt', 'a');
    f.rescan();
    const svc = await start();
    const first = svc.workerThreadId;
    expect(first).not.toBeNull();
    expect(first).not.toBe(threadId);
    nas!.ctx.services.set('requests', {
      recentForDevice: (device: string) => [{ id: 'q1', device, action: 'get', path: 'two.txt', state: 'done', result: () => 'not cloneable', createdAt: 1, updatedAt: 2 }],
    });
    const stats = await svc.publishNow();
    expect(svc.workerThreadId).toBe(first);
    expect(stats.files).toBe(2);
    expect(stats.written.sort()).toEqual(['devices/a.js', 'devices/b.js']);
    const fromWorker = decodeCatalogue(nas!.ctx.layout.catalogue);
    expect(fromWorker.entries.find((e) => e.path === 'two.txt')?.holders).toContain('a');

    // The same root published in-process must come out byte for byte the same.
    const catalogue = nas!.ctx.layout.catalogue;
    const snapshot = (dir: string) => Object.fromEntries(fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => fs.statSync(path.join(dir, p)).isFile()).sort().map((p) => [p, fs.readFileSync(path.join(dir, p), 'utf8')]));
    const before = snapshot(catalogue);
    const requests = nas!.ctx.services.get('requests') as Parameters<typeof publishCatalogue>[0]['requests'];
    await nas!.stop();
    nas = undefined;
    fs.rmSync(catalogue, { recursive: true });
    const r = openRoot(f.root);
    try {
      publishCatalogue({ store: r.store, layout: r.layout, trashDays: r.config.trash.retentionDays, requests });
    } finally {
      r.close();
    }
    expect(snapshot(catalogue)).toEqual(before);
  });

  test('the NAS event loop keeps ticking while a large publish runs', async () => {
    f = makeFixture();
    const svc = await start();
    addSyntheticRows(30_000);
    let maxGap = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    let stats;
    try {
      stats = await svc.publishNow();
    } finally {
      clearInterval(tick);
    }
    expect(stats.files).toBe(30_000);
    expect(decodeCatalogue(nas!.ctx.layout.catalogue).entries.length).toBe(30_301);
    // In-process, the loop would stall for the whole publish; on the worker only message handling remains.
    expect(stats.elapsedMs).toBeGreaterThan(100);
    expect(maxGap).toBeLessThan(Math.max(60, stats.elapsedMs / 3));
  });

  test('a failed publish rejects with the cause, and the next one succeeds on the same worker', async () => {
    f = makeFixture();
    f.write('a.txt');
    f.rescan();
    const svc = await start();
    const worker = svc.workerThreadId;
    const data = path.join(nas!.ctx.layout.catalogue, 'data');
    fs.rmSync(data, { recursive: true });
    fs.writeFileSync(data, 'in the way'); // the shards cannot be written under a file
    f.write('b.txt');
    nas!.ctx.indexer.refresh([path.join(nas!.ctx.layout.files, 'b.txt')]);
    await expect(svc.publishNow()).rejects.toThrow(/data/);
    fs.rmSync(data);
    const stats = await svc.publishNow();
    expect(stats.files).toBe(2);
    expect(svc.workerThreadId).toBe(worker);
    expect(decodeCatalogue(nas!.ctx.layout.catalogue).entries.map((e) => e.path).sort()).toEqual(['a.txt', 'b.txt']);
  });

  test('publishes after index changes are incremental on the kept build; a worker that dies takes it along, and the next is full', async () => {
    f = makeFixture();
    f.write('a.txt');
    f.rescan();
    const svc = await start();
    const until = async (cond: () => boolean) => {
      const end = Date.now() + 30_000;
      while (!cond()) {
        if (Date.now() > end) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const publishAfter = async (name: string) => {
      const before = svc.publishCount;
      f!.write(name);
      nas!.ctx.indexer.refresh([path.join(nas!.ctx.layout.files, name)]);
      await until(() => svc.publishCount > before && decodeCatalogue(nas!.ctx.layout.catalogue).entries.some((e) => e.path === name));
      return svc.lastStats!;
    };
    expect((await publishAfter('b.txt')).mode).toBe('incremental');
    // kill the worker thread as a crash would (mid-publish or between): its kept build is gone.
    const worker = (svc as unknown as { worker: { worker: { terminate(): Promise<number> } | null } }).worker;
    await worker.worker!.terminate();
    await until(() => worker.worker === null);
    const after = await publishAfter('c.txt');
    expect(after.mode).toBe('full');
    expect((await publishAfter('d.txt')).mode).toBe('incremental');
    expect(decodeCatalogue(nas!.ctx.layout.catalogue).entries.map((e) => e.path).sort()).toEqual(['a.txt', 'b.txt', 'c.txt', 'd.txt']);
  });
});
