import { openRoot, type OpenRoot } from '../root/open-root.js';
import { acquireRootLock, type RootLock } from '../root/lock.js';
import { createLogger } from '../log.js';
import { Indexer } from '../index/indexer.js';
import { EventEmitter } from 'node:events';
import { BurrowError } from '../errors.js';
import type { RequestStatus } from '../nas-context.js';
import { RequestProcessor } from './processor.js';

/**
 * How the CLI reaches the processor. Without a running NAS it takes the root lock and runs
 * the processor in this process (recovering any interrupted action first). With a NAS holding
 * the lock it posts to that NAS's HTTP API (http.host/port from the config): the CLI never
 * writes a device's worklist.
 */
export async function withLocalProcessor<T>(root: string, fn: (p: RequestProcessor, r: OpenRoot, indexer: Indexer) => Promise<T>): Promise<{ local: true; value: T } | { local: false; url: string }> {
  const r = openRoot(root);
  let lock: RootLock;
  try {
    lock = acquireRootLock(r.layout.lock, r.layout.root);
  } catch (err) {
    const host = r.config.http.host === '0.0.0.0' || r.config.http.host === '::' ? '127.0.0.1' : r.config.http.host;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${r.config.http.port}`;
    r.close();
    if (err instanceof BurrowError && err.code === 'ROOT_LOCKED') return { local: false, url };
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

export async function httpJson(url: string, method: 'GET' | 'POST', body?: unknown): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new BurrowError('NAS_UNREACHABLE', `The NAS holds the root lock but does not answer at ${url}.`, 'Check http.host and http.port in .burrow/config.yaml, or stop the other process.', { cause: err });
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { message: text };
  }
  if (res.status >= 400) {
    const j = json as { error?: string; message?: string; hint?: string };
    throw new BurrowError(j.error ?? 'HTTP_ERROR', j.message ?? `The NAS answered ${res.status}.`, j.hint);
  }
  return { status: res.status, json };
}

/** Submit one request as a device would, and wait for its result. */
export async function runRequest(root: string, body: Record<string, unknown>): Promise<RequestStatus> {
  const out = await withLocalProcessor(root, async (p) => p.submit(body, 'cli').done);
  if (out.local) return out.value;
  const res = await httpJson(`${out.url}/api/requests?wait=120000`, 'POST', body);
  return res.json as RequestStatus;
}
