import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { repoPath } from '../../util/repo-path.js';
import { checkAdminPassword } from '../../root/admin-password.js';

/** Tries per client address and minute: enough for typos, far too few to guess a password. */
export const LOGIN_ATTEMPTS_PER_MINUTE = 5;

const LoginBody = Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });

/** The owner's browser login (admin password → session cookie) and the CSRF token its pages send. */
export default async function loginRoutes(app: FastifyInstance): Promise<void> {
  const loginHtml = fs.readFileSync(repoPath('web', 'login.html'));
  app.get('/login', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(loginHtml));
  app.get('/admin/login.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(fs.readFileSync(repoPath('web', 'login.js'))));

  app.post<{ Body: typeof LoginBody.static }>(
    '/api/login',
    { schema: { body: LoginBody }, config: { rateLimit: { max: LOGIN_ATTEMPTS_PER_MINUTE, timeWindow: 60_000 } } },
    async (req, reply) => {
      const outcome = await checkAdminPassword(app.nas.layout, req.body.password);
      if (outcome === 'unset') return reply.code(409).send({ error: 'NO_PASSWORD', message: 'No admin password is set on this NAS yet.', hint: `On the NAS run: burrow password --root ${app.nas.layout.root}` });
      if (outcome === 'wrong') return reply.code(401).send({ error: 'BAD_PASSWORD', message: 'Wrong password.' });
      // A fresh session id at login, so an id planted before it is worth nothing.
      await req.session.regenerate();
      req.session.set('owner', true);
      return { ok: true, csrfToken: reply.generateCsrf() };
    },
  );

  app.post('/api/logout', async (req) => {
    await req.session.destroy();
    return { ok: true };
  });

  // The CSRF token for the owner's pages (the admin UI asks here; a token caller needs none).
  app.get('/api/session', async (req, reply) => ({ owner: true, via: req.owner, csrfToken: req.owner === 'session' ? reply.generateCsrf() : null }));
}
