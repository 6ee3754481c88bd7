import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { repoPath } from '../../util/repo-path.js';
import { computeStatus } from '../../services/status.js';

/** The admin UI (web/) and the read-only admin API it renders. */
export default async function adminRoutes(app: FastifyInstance): Promise<void> {
  const webDir = repoPath('web');
  await app.register(fastifyStatic, { root: webDir, prefix: '/admin/', decorateReply: false, index: false });
  const indexHtml = fs.readFileSync(repoPath('web', 'index.html'));
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(indexHtml));
  app.get('/api/devices', async () => {
    const status = computeStatus(app.nas.store);
    return status.devices;
  });
}
