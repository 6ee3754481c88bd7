import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { NAS_LIVE_SCRIPT, catalogueVersion } from '../../catalogue/live-script.js';
import { helpPage, HELP_PAGE_CSP } from '../../util/help-page.js';

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
      .send(`/* Served by the Burrow NAS, not a device agent. */\nwindow.BURROW_NAS=${JSON.stringify({ csrf })};\n${NAS_LIVE_SCRIPT}`);
  });
  app.get('/api/catalogue/version', async () => ({ version: catalogueVersion(app.nas.layout.catalogue) }));
  // The page's [open] links lead to ../files/<path>, the device's own copy; the NAS has none to show.
  app.get('/files/*', async (req, reply) => {
    const rel = String((req.params as { '*'?: string })['*'] ?? '').replace(/\/+$/, '');
    return reply
      .code(404)
      .type('text/html; charset=utf-8')
      .header('Content-Security-Policy', HELP_PAGE_CSP)
      .header('Cache-Control', 'no-store')
      .send(
        helpPage(`${rel || 'files'}: open it on a device`, [
          `[open] opens the copy on the device you are using, not the NAS's copy: this catalogue is served by the NAS, which has no device copy to open.`,
          `To open ${rel || 'it'}, open the catalogue from the Burrow agent on your device (burrow agent prints its address, e.g. http://127.0.0.1:7422/), [get] it there if it is not on the device yet, then [open] it.`,
        ]),
      );
  });
}
