import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { NAS_LIVE_SCRIPT, catalogueVersion } from '../../catalogue/live-script.js';
import { helpPage, HELP_PAGE_CSP } from '../../util/help-page.js';

/**
 * The catalogue over the NAS's own HTTP server: /catalogue/catalogue.html and its data, read
 * straight from catalogue/ (the publisher's output). Only the logged-in owner (or the API token) gets it; the page learns its device from
 * ?device=<name> and acts as that device; the two tiny scripts below answer what the page would load from a device
 * (its device.js and the agent's token script) so a NAS-served page logs no 404s.
 */
const escapeAttr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

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
  // The page itself carries the catalogue version of the moment it was served, taken before it
  // can load any data: the live script compares against that. Taking it from the first poll
  // instead (after the data loaded) missed a publish that landed in between, and the page kept
  // the old rows until the next one.
  const servePage = async (_req: unknown, reply: FastifyReply) => {
    const version = catalogueVersion(app.nas.layout.catalogue);
    let html: string;
    try {
      html = await fs.promises.readFile(path.join(app.nas.layout.catalogue, 'catalogue.html'), 'utf8');
    } catch {
      return reply.code(503).send({ error: { code: 'NO_CATALOGUE', message: 'The catalogue has not been published yet; reload in a moment.' } });
    }
    // A meta tag, not a script: the page's own CSP allows only its known inline scripts.
    const tag = `<meta name="burrow-page-version" content="${escapeAttr(version)}">`;
    const at = html.indexOf('</head>');
    return reply
      .type('text/html; charset=utf-8')
      .header('Cache-Control', 'no-cache')
      .header('X-Content-Type-Options', 'nosniff')
      .send(at < 0 ? html + tag : html.slice(0, at) + tag + '\n' + html.slice(at));
  };
  app.get('/catalogue/catalogue.html', servePage);
  app.get('/catalogue/', servePage);
  const script = (body: string) => async (_req: unknown, reply: FastifyReply) =>
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
