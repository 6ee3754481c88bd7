import { EventEmitter } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { openRoot } from './root/open-root.js';
import { acquireRootLock } from './root/lock.js';
import { createLogger, logFileOf } from './log.js';
import { Indexer } from './index/indexer.js';
import { buildApp } from './http/app.js';
import { createServices } from './services/index.js';
import type { NasContext, NasService } from './nas-context.js';
import { ensureApiToken } from './root/api-token.js';
import { secureStateModes } from './root/state-modes.js';
import { decideTls, writeHttpRuntime, removeHttpRuntime } from './http/listen.js';

export interface RunningNas {
  ctx: NasContext;
  app: FastifyInstance;
  url: string;
  /** SHA-256 of the TLS certificate when the NAS serves HTTPS. */
  fingerprint: string | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  port?: number;
  host?: string;
  watch?: boolean;
  hash?: boolean;
  /** Copy the JSON log (always in <root>/.burrow/logs/burrow.log) to stderr. */
  verbose?: boolean;
}

/** `burrow start`: lock the root, reconcile, watch, open every service, serve HTTP. */
export async function startNas(root: string, opts: StartOptions = {}): Promise<RunningNas> {
  const opened = openRoot(root);
  let lock;
  try {
    lock = acquireRootLock(opened.layout.lock, opened.layout.root);
  } catch (err) {
    opened.close();
    throw err;
  }
  const log = createLogger(process.env.BURROW_LOG_LEVEL ?? opened.config.log.level, { file: logFileOf(opened.layout.logs), stderr: opts.verbose });
  let apiToken: string;
  try {
    // Older roots: make the token, and close .burrow/ to everyone but the owner.
    apiToken = ensureApiToken(opened.layout);
    secureStateModes(opened.layout);
  } catch (err) {
    opened.close();
    lock.release();
    throw err;
  }
  const ix = opened.config.index;
  const indexer = new Indexer(opened.store, opened.layout, { ...ix, watch: opts.watch ?? ix.watch, hash: opts.hash ?? true }, log.child({ part: 'index' }));
  const ctx: NasContext = { ...opened, log, indexer, events: new EventEmitter(), services: new Map() };
  const opens: NasService[] = [];
  let app: FastifyInstance | undefined;
  const stop = async () => {
    removeHttpRuntime(opened.layout);
    await app?.close();
    for (const s of opens.reverse()) await s.close();
    await indexer.close();
    opened.close();
    lock.release();
  };
  try {
    await indexer.open();
    for (const s of createServices()) {
      await s.open(ctx);
      ctx.services.set(s.name, s);
      opens.push(s);
    }
    secureStateModes(opened.layout); // again: services made their own state folders (sync/)
    const host = opts.host ?? opened.config.http.host;
    const tls = await decideTls(opened.layout, opened.config.http, host, log);
    app = await buildApp(ctx, { bindHost: host, apiToken, tls });
    await app.listen({ host, port: opts.port ?? opened.config.http.port });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const scheme = tls ? 'https' : 'http';
    const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    writeHttpRuntime(opened.layout, { pid: process.pid, host, port, tls: tls !== undefined, fingerprint: tls?.fingerprint });
    log.info({ url, root: opened.layout.root, ...(tls ? { fingerprint: tls.fingerprint } : {}) }, 'Burrow NAS running');
    return { ctx, app, url, fingerprint: tls?.fingerprint, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
