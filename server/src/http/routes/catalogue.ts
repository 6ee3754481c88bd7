import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/**
 * The catalogue over the NAS's own HTTP server: /catalogue/catalogue.html and its data, read
 * straight from catalogue/ (the publisher's output). Only the logged-in owner (or the API token) gets it; the page learns its device from
 * ?device=<name> and acts as that device; the two tiny scripts below answer what the page would load from a device
 * (its device.js and the agent's token script) so a NAS-served page logs no 404s.
 */
export default async function catalogueRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: app.nas.layout.catalogue,
    prefix: '/catalogue/',
    decorateReply: false,
    dotfiles: 'deny',
    index: ['catalogue.html'],
    cacheControl: false,
    setHeaders: (res) => {
      // Data shards change under the same names; the browser must ask again each time.
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('X-Content-Type-Options', 'nosniff');
    },
  });
  app.get('/catalogue', async (_req, reply) => reply.redirect('/catalogue/catalogue.html'));
  const script = (body: string) => async (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply.header('Content-Type', 'text/javascript; charset=utf-8').header('Cache-Control', 'no-cache').send(body);
  app.get('/files/.burrow/device.js', script('/* Served by the Burrow NAS: the catalogue page takes its device from ?device=<name>. */\n'));
  // The NAS's stand-in for the agent's token script: the logged-in owner's CSRF token, which the
  // page sends with each request. Only the NAS's own pages get here with a session (security/).
  app.get('/agent.js', async (req, reply) => {
    const csrf = req.owner === 'session' ? reply.generateCsrf() : null;
    return reply
      .header('Content-Type', 'text/javascript; charset=utf-8')
      .header('Cache-Control', 'no-store')
      .send(`/* Served by the Burrow NAS, not a device agent. */\nwindow.BURROW_NAS=${JSON.stringify({ csrf })};\n`);
  });
}
