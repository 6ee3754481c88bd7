import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, test } from 'vitest';
import { makeFixture, addDevices, type Fixture } from './fixture.js';
import { decodeCatalogue } from './decode.js';
import { startNas, type RunningNas } from '../../server/src/nas.js';
import { ownerFetch } from '../helpers/nas-auth.js';
import type { CatalogueService } from '../../server/src/catalogue/service.js';

let f: Fixture | undefined;
let nas: RunningNas | undefined;
afterEach(async () => {
  await nas?.stop();
  nas = undefined;
  f?.cleanup();
  f = undefined;
});

async function start(): Promise<{ nas: RunningNas; svc: CatalogueService }> {
  f!.r.close(); // the NAS opens the root itself
  nas = await startNas(f!.root, { port: 0, watch: false, hash: false });
  const svc = nas.ctx.services.get('catalogue') as CatalogueService;
  return { nas, svc };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('the catalogue service on a running NAS', () => {
  test('publishes at start, then once per burst of index changes and request updates', async () => {
    f = makeFixture();
    addDevices(f, 'a');
    f.write('first.txt');
    const { nas, svc } = await start();
    expect(svc.name).toBe('catalogue');
    await until(() => svc.publishCount >= 1);
    expect(fs.existsSync(path.join(nas.ctx.layout.catalogue, 'catalogue.html'))).toBe(true);
    expect(decodeCatalogue(nas.ctx.layout.catalogue).entries.map((e) => e.path)).toEqual(['first.txt']);

    const before = svc.publishCount;
    for (let i = 0; i < 5; i++) {
      fs.writeFileSync(path.join(nas.ctx.layout.files, `burst-${i}.txt`), 'x');
      nas.ctx.indexer.refresh([path.join(nas.ctx.layout.files, `burst-${i}.txt`)]);
      nas.ctx.events.emit('request-updated', { id: `r${i}`, device: 'a' });
      nas.ctx.events.emit('links-changed', { device: 'a' });
    }
    await until(() => svc.publishCount > before);
    await new Promise((r) => setTimeout(r, nas.ctx.config.catalogue.debounceMs + 200));
    expect(svc.publishCount).toBe(before + 1);
    expect(decodeCatalogue(nas.ctx.layout.catalogue).entries.map((e) => e.path)).toContain('burst-4.txt');

    const stats = await svc.publishNow();
    expect(stats.writtenFiles).toBe(0);
    expect(stats.files).toBe(6);
  });

  test('uses the request processor when one is registered, republishing on request-updated', async () => {
    f = makeFixture();
    addDevices(f, 'a');
    const { nas, svc } = await start();
    await until(() => svc.publishCount >= 1);
    let state: 'pending' | 'done' = 'pending';
    nas.ctx.services.set('requests', {
      recentForDevice: (device: string) => [{ id: 'q1', device, action: 'get', path: 'x', state, createdAt: 1, updatedAt: state === 'done' ? 3 : 2 }],
    });
    nas.ctx.events.emit('request-updated', { id: 'q1', device: 'a' });
    const shard = path.join(nas.ctx.layout.catalogue, 'devices', 'a.js');
    await until(() => fs.readFileSync(shard, 'utf8').includes('"pending"'));
    state = 'done';
    nas.ctx.events.emit('request-updated', { id: 'q1', device: 'a' });
    await until(() => fs.readFileSync(shard, 'utf8').includes('"done"'));
  });

  test('serves the page and its data over HTTP, with the CSP, and no dot-files', async () => {
    f = makeFixture();
    f.write('a.txt');
    const { nas, svc } = await start();
    await until(() => svc.publishCount >= 1);
    const page = await ownerFetch(f!.root, `${nas.url}/catalogue/catalogue.html`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;|<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
    expect(html).toContain('<script src="data/index.js"></script>');
    expect((await ownerFetch(f!.root, `${nas.url}/catalogue/data/index.js`)).status).toBe(200);
    expect((await ownerFetch(f!.root, `${nas.url}/catalogue`, { redirect: 'manual' })).headers.get('location')).toBe('/catalogue/catalogue.html');
    fs.writeFileSync(path.join(nas.ctx.layout.catalogue, '.secret.tmp'), 'x');
    expect((await ownerFetch(f!.root, `${nas.url}/catalogue/.secret.tmp`)).status).not.toBe(200);
    expect((await ownerFetch(f!.root, `${nas.url}/catalogue/../.burrow/config.yaml`)).status).not.toBe(200);
    const dev = await ownerFetch(f!.root, `${nas.url}/files/.burrow/device.js`);
    expect(dev.headers.get('content-type')).toContain('javascript');
  });
});

describe('burrow publish', () => {
  test('renders once and reports with --json', () => {
    f = makeFixture();
    f.write('docs/one.txt');
    f.rescan();
    const bin = path.resolve('bin/burrow.js');
    const out = JSON.parse(execFileSync(process.execPath, [bin, 'publish', '--root', f.root, '--json'], { encoding: 'utf8' }));
    expect(out).toMatchObject({ files: 1, folders: 1 });
    expect(out.totalBytes).toBeGreaterThan(1000);
    expect(fs.existsSync(path.join(f.root, 'catalogue', 'catalogue.html'))).toBe(true);
    const human = execFileSync(process.execPath, [bin, 'publish', '--root', f.root], { encoding: 'utf8' });
    expect(human).toMatch(/published 1 files in 1 folders/);
    expect(human).toMatch(/rewrote 0 /);
  });
});
