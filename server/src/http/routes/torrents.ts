import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { TORRENT_SERVICE, type TorrentService } from '../../torrent/service.js';
import { BurrowError } from '../../errors.js';

function service(app: FastifyInstance): TorrentService {
  const s = app.nas.services.get(TORRENT_SERVICE) as TorrentService | undefined;
  if (!s) throw new BurrowError('NOT_RUNNING', 'The torrent service is not running on this NAS.', 'Restart the NAS with "burrow start".');
  return s;
}

const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{12}$' }) });

/** The torrents the NAS made (burrow torrent list / stop while the NAS runs). Made with POST /api/requests. */
export default async function torrentRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/torrents', async () => ({ listenerPort: service(app).listeningPort ?? null, torrents: service(app).list() }));
  app.post<{ Params: typeof IdParams.static }>('/api/torrents/:id/stop', { schema: { params: IdParams } }, async (req) => {
    const s = service(app);
    if (!s.list().some((t) => t.id === req.params.id)) throw new BurrowError('UNKNOWN_TORRENT', `There is no torrent ${req.params.id}.`, 'List them with "burrow torrent list".');
    return { id: req.params.id, stopped: await s.stop(req.params.id) };
  });
}
