import { openRoot, type OpenRoot } from '../root/open-root.js';
import { acquireRootLock, type RootLock } from '../root/lock.js';
import { createLogger } from '../log.js';
import { Indexer } from '../index/indexer.js';
import { EventEmitter } from 'node:events';
import { BurrowError } from '../errors.js';
import type { RequestStatus } from '../nas-context.js';
import { RequestProcessor } from './processor.js';
import { nasEndpoint, nasJson, type NasEndpoint } from '../http/client.js';

/**
 * How the CLI reaches the processor. Without a running NAS it takes the root lock and runs
 * the processor in this process (recovering any interrupted action first). With a NAS holding
 * the lock it posts to that NAS's HTTP API (http.host/port from the config): the CLI never
 * writes a device's worklist.
 */
export async function withLocalProcessor<T>(root: string, fn: (p: RequestProcessor, r: OpenRoot, indexer: Indexer) => Promise<T>): Promise<{ local: true; value: T } | { local: false; url: string; nas: NasEndpoint }> {
  const r = openRoot(root);
  let lock: RootLock;
  try {
    lock = acquireRootLock(r.layout.lock, r.layout.root);
  } catch (err) {
    // The running NAS's address, API token and certificate (see http/client.ts).
    const nas = nasEndpoint(r.layout, r.config);
    r.close();
    if (err instanceof BurrowError && err.code === 'ROOT_LOCKED') return { local: false, url: nas.url, nas };
    throw err;
  }
  const log = createLogger(process.env.BURROW_LOG_LEVEL ?? 'warn');
  const indexer = new Indexer(r.store, r.layout, { ...r.config.index, watch: false, hash: false, reconcileMinutes: 0 }, log.child({ part: 'index' }));
  try {
    const p = new RequestProcessor({ layout: r.layout, config: r.config, store: r.store, log, services: new Map(), events: new EventEmitter(), refresh: (abs) => indexer.refresh(abs) });
    await p.open();
    const value = await fn(p, r, indexer);
    await p.idle();
    return { local: true, value };
  } finally {
    await indexer.close();
    r.close();
    lock.release();
  }
}

/** One call to the running NAS, authenticated with its API token (http/client.ts). */
export async function httpJson(nas: NasEndpoint, path: string, method: 'GET' | 'POST', body?: unknown): Promise<{ status: number; json: unknown }> {
  return nasJson(nas, method, path, body);
}

/** Submit one request as a device would, and wait for its result. */
export async function runRequest(root: string, body: Record<string, unknown>): Promise<RequestStatus> {
  const out = await withLocalProcessor(root, async (p) => p.submit(body, 'cli').done);
  if (out.local) return out.value;
  const res = await httpJson(out.nas, '/api/requests?wait=120000', 'POST', body);
  return res.json as RequestStatus;
}
