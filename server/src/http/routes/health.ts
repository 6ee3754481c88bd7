import type { FastifyInstance } from 'fastify';
import { computeStatus } from '../../services/status.js';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/health', { schema: { response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } }, async () => ({ ok: true }));
  app.get('/api/status', async () => {
    const ix = app.nas.indexer;
    return { ...computeStatus(app.nas.store, app.nas.config), hashing: ix.hashRunning, lastScan: ix.lastScan };
  });
}
