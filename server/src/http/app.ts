import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { NasContext } from '../nas-context.js';
import { BurrowError } from '../errors.js';
import { routeModules } from './routes/index.js';
import { installSecurity } from './security/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    nas: NasContext;
  }
}

export interface HttpOptions {
  /** The address the server binds (decides which Host names it answers to). */
  bindHost: string;
  /** The bearer token of .burrow/api-token. */
  apiToken: string;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string } | undefined;
}

/**
 * The NAS's HTTP server: admin UI, catalogue, API. `buildApp` does not listen, so tests drive it
 * with `inject`. Every route area is one module in routes/ with a schema on each route; every
 * route but liveness and login needs the owner (security/index.ts).
 */
export async function buildApp(ctx: NasContext, o: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log.child({ part: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    ...(o.tls ? { https: { key: o.tls.key, cert: o.tls.cert } } : {}),
  }) as unknown as FastifyInstance;
  app.decorate('nas', ctx);
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof BurrowError) return reply.code(400).send({ error: err.code, message: err.message, hint: err.hint });
    const e = err as { validation?: unknown; statusCode?: number; message: string; code?: string };
    if (e.validation) return reply.code(400).send({ error: 'BAD_REQUEST', message: e.message });
    if (e.code === 'FST_CSRF_INVALID_TOKEN' || e.code === 'FST_CSRF_MISSING_SECRET')
      return reply.code(403).send({ error: 'BAD_CSRF_TOKEN', message: 'This change needs the page\'s CSRF token (X-CSRF-Token).', hint: 'Reload the page; scripts use the API token instead.' });
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: e.code ?? 'BAD_REQUEST', message: e.message });
    ctx.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'Internal error; see the NAS log.' });
  });
  await installSecurity(app, { bindHost: o.bindHost, allowedHosts: ctx.config.http.allowedHosts, tls: o.tls !== undefined, apiToken: o.apiToken });
  for (const mod of routeModules) await app.register(mod);
  return app;
}
