import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { initRoot, openRoot, type OpenRoot } from '../../server/src/root/open-root.js';
import { addDevice } from '../../server/src/devices/add-device.js';
import { Indexer } from '../../server/src/index/indexer.js';
import { createLogger } from '../../server/src/log.js';
import { RequestProcessor } from '../../server/src/requests/processor.js';
import type { RequestStatus } from '../../server/src/nas-context.js';
import { tempDir, writeFiles } from '../helpers/tmp.js';

export interface Fixture {
  root: string;
  r: OpenRoot;
  proc: RequestProcessor;
  indexer: Indexer;
  events: EventEmitter;
  services: Map<string, unknown>;
  files: (rel: string) => string;
  dev: (device: string, rel: string) => string;
  run: (action: string, p: string, extra?: { device?: string; args?: Record<string, unknown>; confirm?: boolean; id?: string }) => Promise<RequestStatus>;
  close: () => Promise<void>;
}

let counter = 0;
export function nextId(): string {
  return `test-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** A real NAS root in a temp folder with devices and store files, and a request processor over it. */
export async function makeFixture(opts: { devices?: string[]; files?: Record<string, string>; quotaMb?: Record<string, number> } = {}): Promise<Fixture> {
  const t = tempDir('burrow-req-');
  const root = path.join(t.dir, 'nas');
  initRoot(root);
  const r = openRoot(root);
  for (const d of opts.devices ?? ['phone', 'laptop']) addDevice(r, d, opts.quotaMb?.[d] ?? null);
  writeFiles(r.layout.files, opts.files ?? {});
  const log = createLogger('silent');
  const indexer = new Indexer(r.store, r.layout, { ...r.config.index, watch: false, hash: false, reconcileMinutes: 0 }, log);
  indexer.reconcile();
  const events = new EventEmitter();
  const services = new Map<string, unknown>();
  const proc = new RequestProcessor({ layout: r.layout, config: r.config, store: r.store, log, services, events, refresh: (p) => indexer.refresh(p) });
  await proc.open();
  return {
    root,
    r,
    proc,
    indexer,
    events,
    services,
    files: (rel) => path.join(r.layout.files, rel),
    dev: (device, rel) => path.join(r.layout.device(device), rel),
    run: (action, p, extra = {}) =>
      proc.submit({ id: extra.id ?? nextId(), device: extra.device ?? 'phone', action, path: p, args: extra.args ?? {}, confirm: extra.confirm ?? false }, 'cli').done,
    close: async () => {
      await proc.idle();
      await indexer.close();
      r.close();
      t.cleanup();
    },
  };
}

export function ino(p: string): number {
  return fs.lstatSync(p).ino;
}

export function exists(p: string): boolean {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false; // ENOTDIR: a file on the way
  }
}

/** Every regular file under a folder, relative, sorted. */
export function listFiles(dir: string): string[] {
  if (!exists(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}
