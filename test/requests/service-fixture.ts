import path from 'node:path';
import { EventEmitter } from 'node:events';
import { initRoot, openRoot, type OpenRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { Indexer } from '../../server/src/index/indexer.js';
import { createLogger } from '../../server/src/log.js';
import { RequestsService } from '../../server/src/requests/service.js';
import type { NasContext } from '../../server/src/nas-context.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';

export interface ServiceFixture {
  ctx: NasContext;
  svc: RequestsService;
  r: OpenRoot;
  events: Array<[string, unknown]>;
  reopen: () => Promise<void>;
  close: () => Promise<void>;
}

/** The 'requests' NAS service over a real temp root (indexer without its watcher: tests call refresh). */
export async function makeServiceFixture(files: Record<string, string> = {}, devices = ['phone', 'laptop']): Promise<ServiceFixture> {
  const t = tempDir('burrow-svc-');
  const root = path.join(t.dir, 'nas');
  initRoot(root);
  let r = openRoot(root);
  for (const d of devices) addDevice(r, d, null);
  writeFiles(r.layout.files, files);
  const events: Array<[string, unknown]> = [];
  const make = async () => {
    const log = createLogger('silent');
    const indexer = new Indexer(r.store, r.layout, { ...r.config.index, watch: false, hash: false, reconcileMinutes: 0 }, log);
    indexer.reconcile();
    const bus = new EventEmitter();
    for (const name of ['request-updated', 'links-changed']) bus.on(name, (e) => events.push([name, e]));
    const ctx: NasContext = { ...r, log, indexer, events: bus, services: new Map() };
    const svc = new RequestsService();
    await svc.open(ctx);
    ctx.services.set('requests', svc);
    return { ctx, svc };
  };
  const fx = { ...(await make()), r, events } as ServiceFixture;
  fx.reopen = async () => {
    await fx.svc.close();
    await fx.ctx.indexer.close();
    r.close();
    r = openRoot(root);
    fx.r = r;
    Object.assign(fx, await make());
  };
  fx.close = async () => {
    await fx.svc.close();
    await fx.ctx.indexer.close();
    fx.r.close();
    t.cleanup();
  };
  return fx;
}
