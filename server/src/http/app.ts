import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { NasContext } from '../nas-context.js';
import { BurrowError } from '../errors.js';
import { routeModules } from './routes/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    nas: NasContext;
  }
}

/**
 * The NAS's HTTP server: admin UI, catalogue, API. `buildApp` does not listen, so tests drive it
 * with `inject`. Every route area is one module in routes/ with a schema on each route.
 */
export async function buildApp(ctx: NasContext): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: ctx.log.child({ part: 'http' }, { level: 'warn' }) as FastifyBaseLogger, bodyLimit: 1024 * 1024 }) as unknown as FastifyInstance;
  app.decorate('nas', ctx);
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof BurrowError) return reply.code(400).send({ error: err.code, message: err.message, hint: err.hint });
    const e = err as { validation?: unknown; statusCode?: number; message: string; code?: string };
    if (e.validation) return reply.code(400).send({ error: 'BAD_REQUEST', message: e.message });
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: e.code ?? 'BAD_REQUEST', message: e.message });
    ctx.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'Internal error; see the NAS log.' });
  });
  for (const mod of routeModules) await app.register(mod);
  return app;
}
