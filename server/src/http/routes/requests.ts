import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { RequestsService } from '../../requests/service.js';
import { REQUEST_ACTIONS } from '../../actions/registry.js';
import { listTrash, restoreTrash, emptyTrash } from '../../actions/trash.js';
import { BurrowError } from '../../errors.js';
import type { RequestStatus } from '../../nas-context.js';
import { argsProblem, MAX_LINE_BYTES } from '../../requests/validate.js';

const RequestBody = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_-]{8,128}$' }),
    device: Type.String({ minLength: 1, maxLength: 128 }),
    action: Type.Union(REQUEST_ACTIONS.map((a) => Type.Literal(a))),
    path: Type.String({ maxLength: 4096 }),
    args: Type.Optional(Type.Object({}, { additionalProperties: true })),
    confirm: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const WaitQuery = Type.Object({ wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 120000 })) });

function service(app: FastifyInstance): RequestsService {
  const s = app.nas.services.get('requests') as RequestsService | undefined;
  if (!s) throw new BurrowError('NOT_RUNNING', 'The request processor is not running on this NAS.', 'Restart the NAS with "burrow start".');
  return s;
}

/** Requests (POST runs one through the same processor as the worklists, and waits for its result) and the trash. */
export default async function requestRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: typeof RequestBody.static; Querystring: typeof WaitQuery.static }>(
    '/api/requests',
    // The same limits as a worklist line: 64 KiB in all, args at most 8 deep and 16 KiB.
    { schema: { body: RequestBody, querystring: WaitQuery }, bodyLimit: MAX_LINE_BYTES },
    async (req, reply) => {
      const badArgs = argsProblem(req.body.args);
      if (badArgs) return reply.code(400).send({ error: 'BAD_ARGS', message: `The request was refused: ${badArgs}` });
      const s = service(app);
      const sub = s.submit(req.body, 'http');
      const wait = req.query.wait ?? 30000;
      const final = await new Promise<RequestStatus | undefined>((resolve) => {
        const t = setTimeout(() => resolve(undefined), wait);
        void sub.done.then((s) => {
          clearTimeout(t);
          resolve(s);
        });
      });
      const status = final ?? s.status(sub.status.id) ?? sub.status;
      return reply.code(status.state === 'done' || status.state === 'failed' ? 200 : 202).send(status);
    },
  );

  app.get<{ Params: { id: string } }>('/api/requests/:id', { schema: { params: Type.Object({ id: Type.String({ maxLength: 200 }) }) } }, async (req, reply) => {
    const st = service(app).status(req.params.id);
    if (!st) return reply.code(404).send({ error: 'UNKNOWN_REQUEST', message: `No request with the id ${JSON.stringify(req.params.id)}.` });
    return st;
  });

  app.get<{ Querystring: { device: string; limit?: number } }>(
    '/api/requests',
    { schema: { querystring: Type.Object({ device: Type.String({ minLength: 1, maxLength: 128 }), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }) } },
    async (req) => service(app).recentForDevice(req.query.device, req.query.limit ?? 50),
  );

  app.get('/api/shares', async () => service(app).processor.shares.list());

  app.get('/api/trash', async () => listTrash(service(app).processor.trash, app.nas.config.trash.retentionDays));

  app.post<{ Params: { id: string } }>('/api/trash/:id/restore', { schema: { params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,200}$' }) }) } }, async (req) => {
    const restored = restoreTrash(service(app).processor.trash, app.nas.layout, req.params.id);
    app.nas.indexer.refresh(restored.map((p) => `${app.nas.layout.files}/${p}`));
    return { id: req.params.id, restored };
  });

  app.post<{ Body: { id?: string; all?: boolean } }>(
    '/api/trash/empty',
    { schema: { body: Type.Object({ id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,200}$' })), all: Type.Optional(Type.Boolean()) }, { additionalProperties: false }) } },
    async (req) => ({ emptied: emptyTrash(service(app).processor.trash, app.nas.layout, { ...req.body, retentionDays: app.nas.config.trash.retentionDays }) }),
  );
}
