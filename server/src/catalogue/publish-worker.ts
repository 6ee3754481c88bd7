import { parentPort } from 'node:worker_threads';
import { openStore, type Store } from '../store/index.js';
import { layoutOf } from '../root/layout.js';
import { BurrowError } from '../errors.js';
import { Publisher } from './publish.js';
import type { PublishJob, PublishReply } from './worker-publisher.js';

/**
 * Worker thread: runs catalogue publishes off the NAS event loop. It reads the index through its
 * own read-only connection to the same WAL database (a snapshot taken when the publish starts)
 * and keeps its Publisher between jobs: the previous build, so a job that brings the changed
 * paths re-reads only those. A new worker (after a crash) has none and builds in full.
 */
let store: Store | null = null;
let storeFile = '';
const publishers = new Map<string, Publisher>();

function storeFor(dbFile: string): Store {
  if (store && storeFile === dbFile) return store;
  store?.close();
  store = null;
  store = openStore(dbFile, { readonly: true });
  storeFile = dbFile;
  return store;
}

function publisherFor(root: string): Publisher {
  let p = publishers.get(root);
  if (!p) publishers.set(root, (p = new Publisher(layoutOf(root))));
  return p;
}

parentPort!.on('message', (job: PublishJob) => {
  let reply: PublishReply;
  try {
    const stats = publisherFor(job.root).publish({
      store: storeFor(job.dbFile),
      devices: job.devices,
      requestRows: new Map(job.requestRows),
      trashDays: job.trashDays,
      torrents: job.torrents,
      agentPort: job.agentPort,
      chunkEvery: job.chunkEvery,
      changes: job.changes,
    });
    reply = { id: job.id, ok: true, stats };
  } catch (err) {
    const e = err as Error & { code?: unknown };
    reply = {
      id: job.id,
      ok: false,
      error: { message: e?.message ?? String(err), code: typeof e?.code === 'string' ? e.code : undefined, hint: err instanceof BurrowError ? err.hint : undefined, stack: e?.stack },
    };
  }
  parentPort!.postMessage(reply);
});
