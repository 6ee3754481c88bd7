import fs from 'node:fs';
import path from 'node:path';
import { constants as C } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { Type } from '@sinclair/typebox';
import parseRange from 'range-parser';
import { REQUEST_ACTIONS } from '../../actions/registry.js';
import { argsProblem, MAX_LINE_BYTES } from '../../requests/validate.js';
import { WORKLIST_DIR } from '../../requests/worklist.js';
import { BurrowError } from '../../errors.js';
import type { RequestsService } from '../../requests/service.js';
import type { RequestStatus } from '../../nas-context.js';
import { anchoredAt } from '../../anchored-fs/index.js';
import { normaliseRelPath } from '../../fsutil/safe-path.js';
import { catalogueVersion } from '../../catalogue/live-script.js';
import { helpPage, HELP_PAGE_CSP } from '../../util/help-page.js';
import { repoPath } from '../../util/repo-path.js';
import { checkCredential, exchangeJoinToken, webCredentials, DEVICE_COOKIE } from '../../devices/web-join.js';
import { SecretsRepo } from '../../store/secrets-repo.js';
import { AGENT_REPORT_REL, type AgentReport, type WorkItem } from '../../devices/exchange-formats.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The browser device this request acts for (a web-app credential), never the owner. */
    webDevice?: string;
  }
}


const SHELL_FILES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'sw.js': 'text/javascript; charset=utf-8',
  'download-worker.js': 'text/javascript; charset=utf-8',
  'manifest.webmanifest': 'application/manifest+json',
  'icon.svg': 'image/svg+xml',
};

const RequestBody = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_-]{8,128}$' }),
    device: Type.String({ maxLength: 128 }),
    action: Type.Union(REQUEST_ACTIONS.map((a) => Type.Literal(a))),
    path: Type.String({ maxLength: 4096 }),
    args: Type.Optional(Type.Object({}, { additionalProperties: true })),
    confirm: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const ReportBody = Type.Object(
  { quotaBytes: Type.Number({ minimum: 0 }), usageBytes: Type.Number({ minimum: 0 }), filesBytes: Type.Number({ minimum: 0 }) },
  { additionalProperties: false },
);
const WaitQuery = Type.Object({ wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 60000 })) });

const cookieOf = (req: FastifyRequest): string | undefined => req.cookies[`__Host-${DEVICE_COOKIE}`] ?? req.cookies[DEVICE_COOKIE];

/**
 * The web app a browser device uses (issue 18, a phone with nothing installed): the one-time
 * join link, then everything under /app/ acting for exactly the device its credential names.
 * Shell files (script, service worker, manifest, icon) hold no data and are public, so the app
 * still starts offline or after a revocation and can say what happened; the catalogue, its
 * data, the device's files and every action need the credential. The owner's session or token
 * does not count here, and a device credential counts nowhere else (security/index.ts).
 * Design notes: docs/web-app.md.
 */
export default async function deviceAppRoutes(app: FastifyInstance): Promise<void> {
  const repo = webCredentials(app.nas.store.db);
  const { layout } = app.nas;
  const webDir = repoPath('web', 'phone');

  app.get<{ Params: { token: string } }>('/join/:token', { schema: { params: Type.Object({ token: Type.String({ maxLength: 200 }) }) } }, async (req, reply) => {
    const out = exchangeJoinToken(repo, req.params.token, req.headers['user-agent']);
    reply.header('Cache-Control', 'no-store');
    if (!out.ok) {
      const why = { unknown: 'This join link is not valid.', used: 'This join link was used already: each link signs in one browser, once.', expired: 'This join link has expired (links last 24 hours).', revoked: 'The owner revoked this join link.' }[out.reason];
      return reply
        .code(403)
        .type('text/html; charset=utf-8')
        .header('Content-Security-Policy', HELP_PAGE_CSP)
        .send(helpPage('Cannot join with this link', [why, 'Ask the owner of the NAS for a new link: burrow device add <name> --web (it prints a QR code to scan).']));
    }
    const secure = req.protocol === 'https';
    reply.setCookie(secure ? `__Host-${DEVICE_COOKIE}` : DEVICE_COOKIE, out.credential, { httpOnly: true, secure, sameSite: 'lax', path: '/', maxAge: 10 * 365 * 24 * 3600 });
    return reply.redirect('/app/c/catalogue.html', 303);
  });

  for (const [name, type] of Object.entries(SHELL_FILES)) {
    const body = fs.readFileSync(path.join(webDir, name));
    app.get(`/app/${name}`, async (_req, reply) => {
      reply.type(type).header('Cache-Control', 'no-cache');
      // The service worker's scope is /app/ (its own folder), so no Service-Worker-Allowed header is needed.
      return reply.send(body);
    });
  }
  app.get('/app', async (_req, reply) => reply.redirect('/app/c/catalogue.html'));
  app.get('/app/', async (_req, reply) => reply.redirect('/app/c/catalogue.html'));

  await app.register(async (scoped) => {
    scoped.addHook('onRequest', async (req, reply) => {
      const c = checkCredential(repo, cookieOf(req));
      const page = req.method === 'GET' && !req.url.startsWith('/app/api/') && String(req.headers.accept ?? '').includes('text/html');
      const deny = (code: string, message: string) => {
        reply.header('Cache-Control', 'no-store');
        if (page) return reply.code(401).type('text/html; charset=utf-8').header('Content-Security-Policy', HELP_PAGE_CSP).send(helpPage('This browser is not signed in to Burrow', [message]));
        return reply.code(401).send({ error: code, message });
      };
      if (!c.ok) {
        if (c.reason === 'revoked') return deny('DEVICE_REVOKED', 'The owner revoked this browser\'s access to the NAS. Ask for a new join link (burrow device add <name> --web).');
        return deny('DEVICE_UNAUTHENTICATED', 'This browser has no device credential. Open the join link the owner made (burrow device add <name> --web) on this device.');
      }
      if (!app.nas.store.devices.get(c.device)) return deny('DEVICE_REVOKED', `The device ${c.device} was removed from the NAS.`);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        // A cross-site form or simple request can carry neither this header nor a JSON body.
        const site = req.headers['sec-fetch-site'];
        if (req.headers['x-burrow-device'] !== '1' || (site !== undefined && site !== 'same-origin') || !String(req.headers['content-type'] ?? '').startsWith('application/json'))
          return reply.code(403).send({ error: 'BAD_ORIGIN', message: 'Actions are taken only from the Burrow web app itself (X-Burrow-Device header, JSON body, same origin).' });
      }
      req.webDevice = c.device;
    });

    await scoped.register(fastifyStatic, {
      root: path.join(layout.catalogue, 'data'),
      prefix: '/app/c/data/',
      decorateReply: false,
      dotfiles: 'deny',
      index: false,
      cacheControl: false,
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    });

    scoped.get('/app/c/catalogue.html', async (req, reply) => {
      let html: string;
      try {
        html = await fs.promises.readFile(path.join(layout.catalogue, 'catalogue.html'), 'utf8');
      } catch {
        return reply.code(503).send({ error: 'NO_CATALOGUE', message: 'The NAS has not published the catalogue yet; try again in a moment.' });
      }
      return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(webAppPage(html));
    });
    scoped.get('/app/c/', async (_req, reply) => reply.redirect('/app/c/catalogue.html'));

    scoped.get<{ Params: { file: string } }>('/app/c/devices/:file', async (req, reply) => {
      const own = `${req.webDevice}.js`;
      if (req.params.file !== own) return reply.code(403).send({ error: 'OTHER_DEVICE', message: `This browser is the device ${req.webDevice}; it reads only its own request list.` });
      const body = await fs.promises.readFile(path.join(layout.catalogue, 'devices', own)).catch(() => Buffer.from(`BURROW_REQUESTS(${JSON.stringify(req.webDevice)}, [], {});\n`));
      return reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'no-cache').send(body);
    });

    scoped.get('/app/files/.burrow/device.js', async (req, reply) =>
      reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'no-cache').send(`window.BURROW_DEVICE=${JSON.stringify({ name: req.webDevice, web: true })};\n`),
    );
    // [open] is answered by the service worker from the browser's own storage; this is what a
    // browser without it (or a file not downloaded yet) sees.
    scoped.get('/app/files/*', async (req, reply) => {
      const rel = String((req.params as { '*'?: string })['*'] ?? '');
      return reply
        .code(404)
        .type('text/html; charset=utf-8')
        .header('Content-Security-Policy', HELP_PAGE_CSP)
        .header('Cache-Control', 'no-store')
        .send(helpPage(`Not on this ${req.webDevice} yet`, [`${decodeSafe(rel)} is not stored in this browser yet. [get] it in the catalogue; [open] turns bold once the whole file is here, and then opens it even offline.`]));
    });

    scoped.get('/app/api/me', async (req) => ({ device: req.webDevice, version: catalogueVersion(layout.catalogue) }));
    scoped.get('/app/api/version', async () => ({ version: catalogueVersion(layout.catalogue) }));

    // What the NAS links into devices/<d>/: the files this browser should hold, and nothing else.
    scoped.get('/app/api/holdings', async (req) => ({ device: req.webDevice, files: listHoldings(layout.device(req.webDevice!)) }));

    scoped.get('/app/api/file/*', async (req, reply) => serveDeviceFile(req, reply, layout.device(req.webDevice!)));

    scoped.post<{ Body: typeof RequestBody.static; Querystring: typeof WaitQuery.static }>(
      '/app/api/requests',
      { schema: { body: RequestBody, querystring: WaitQuery }, bodyLimit: MAX_LINE_BYTES },
      async (req, reply) => {
        const device = req.webDevice!;
        if (req.body.device !== '' && req.body.device !== device)
          return reply.code(403).send({ error: 'OTHER_DEVICE', message: `This browser is the device ${device}; it cannot act for ${JSON.stringify(req.body.device)}.` });
        const badArgs = argsProblem(req.body.args);
        if (badArgs) return reply.code(400).send({ error: 'BAD_ARGS', message: `The request was refused: ${badArgs}` });
        const s = requestsService(app);
        if (!s) return reply.code(503).send({ error: 'NOT_RUNNING', message: 'The request processor is not running on this NAS.' });
        const known = s.status(req.body.id);
        if (known && known.device !== device) return reply.code(409).send({ error: 'ID_TAKEN', message: 'That request id belongs to another device.' });
        if (!known) {
          const item: WorkItem = { id: req.body.id, device, action: req.body.action, path: req.body.path, args: req.body.args ?? {}, confirm: req.body.confirm === true };
          appendToWorklist(layout.root, layout.device(device), item);
          s.pollDevice(device);
        }
        const final = await waitForFinal(app, s, req.body.id, req.query.wait ?? 30000);
        const st = final ?? s.status(req.body.id) ?? { id: req.body.id, device, action: req.body.action, path: req.body.path, state: 'pending', createdAt: Date.now(), updatedAt: Date.now() };
        return reply.code(st.state === 'done' || st.state === 'failed' ? 200 : 202).send(st);
      },
    );

    scoped.get<{ Params: { id: string } }>('/app/api/requests/:id', { schema: { params: Type.Object({ id: Type.String({ maxLength: 200 }) }) } }, async (req, reply) => {
      const st = requestsService(app)?.status(req.params.id);
      if (!st || st.device !== req.webDevice) return reply.code(404).send({ error: 'UNKNOWN_REQUEST', message: `No request ${JSON.stringify(req.params.id)} of ${req.webDevice}.` });
      return st;
    });

    // The browser's storage quota is this device's storage limit, as an agent's report would say.
    scoped.post<{ Body: typeof ReportBody.static }>('/app/api/report', { schema: { body: ReportBody } }, async (req) => {
      const device = req.webDevice!;
      const b = req.body;
      const r: AgentReport = {
        v: 1,
        device,
        limitBytes: Math.floor(b.quotaBytes),
        freeBytes: Math.max(0, Math.floor(b.quotaBytes - b.usageBytes)),
        usedBytes: Math.floor(b.filesBytes),
        agentVersion: `web ${String(req.headers['user-agent'] ?? '').slice(0, 80)}`,
        at: Date.now(),
      };
      const rel = path.relative(layout.root, path.join(layout.device(device), AGENT_REPORT_REL));
      const root = anchoredAt(layout.root);
      root.mkdirp(path.dirname(rel));
      root.writeFileAtomic(rel, JSON.stringify(r) + '\n');
      const dev = app.nas.store.devices.get(device);
      new SecretsRepo(app.nas.store.db).saveReport({ device, limit_bytes: r.limitBytes, free_bytes: r.freeBytes, used_bytes: r.usedBytes, admin_quota_bytes: dev?.quota_bytes ?? null, agent_version: r.agentVersion });
      return { ok: true, effectiveQuotaBytes: app.nas.store.devices.get(device)?.effective_quota_bytes ?? null };
    });
  });
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function requestsService(app: FastifyInstance): RequestsService | undefined {
  return app.nas.services.get('requests') as RequestsService | undefined;
}

/** The catalogue page as the web app serves it: manifest, service worker allowed, and the app's script before the page starts. */
export function webAppPage(html: string): string {
  const q = '&#39;';
  let out = html.replace(`default-src ${q}none${q}`, `default-src ${q}none${q}; manifest-src ${q}self${q}; worker-src ${q}self${q}`).replace('img-src data:', `img-src data: ${q}self${q}`);
  out = out.replace('<head>', '<head>\n<link rel="manifest" href="/app/manifest.webmanifest">\n<meta name="theme-color" content="#5b3a1e">\n<link rel="icon" href="/app/icon.svg">');
  const start = '<script>BURROW_START();</script>';
  const at = out.lastIndexOf(start);
  const tag = '<script src="/app/app.js"></script>\n';
  return at < 0 ? out : out.slice(0, at) + tag + out.slice(at);
}

/** One worklist line, appended as the device's agent would (the worklist reader validates it like any other). */
function appendToWorklist(root: string, deviceDir: string, item: WorkItem): void {
  const dirRel = path.relative(root, path.join(deviceDir, WORKLIST_DIR));
  const a = anchoredAt(root);
  a.mkdirp(dirRel);
  const fd = a.openFile(path.join(dirRel, 'worklist.jsonl'), C.O_WRONLY | C.O_APPEND | C.O_CREAT, 0o600);
  try {
    const line = Buffer.from(JSON.stringify(item) + '\n');
    const size = fs.fstatSync(fd).size;
    // One write(2) may write only part of the line on a disk that fills up, and return without an
    // error: take such a torn line back (it would swallow the next request's line) and refuse.
    const written = fs.writeSync(fd, line);
    if (written !== line.length) {
      fs.ftruncateSync(fd, size);
      throw new BurrowError('DISK_FULL', `The NAS's disk is full: the request was not saved (${written} of ${line.length} bytes written).`, 'Free some space on the NAS, then try again.');
    }
  } finally {
    fs.closeSync(fd);
  }
}

async function waitForFinal(app: FastifyInstance, s: RequestsService, id: string, waitMs: number): Promise<RequestStatus | undefined> {
  const final = (st: RequestStatus | undefined) => st && (st.state === 'done' || st.state === 'failed');
  const now = s.status(id);
  if (final(now) || waitMs === 0) return now;
  return new Promise((resolve) => {
    const events = app.nas.events;
    const done = (st: RequestStatus | undefined) => {
      clearTimeout(timer);
      clearInterval(poll);
      events.off('request-updated', onUpdate);
      resolve(st);
    };
    const onUpdate = (e: { id: string }) => {
      if (e.id !== id) return;
      const st = s.status(id);
      if (final(st)) done(st);
    };
    events.on('request-updated', onUpdate);
    // The worklist reader may take the line in before this listener exists; a slow poll covers that.
    const poll = setInterval(() => {
      const st = s.status(id);
      if (final(st)) done(st);
    }, 200);
    const timer = setTimeout(() => done(s.status(id)), waitMs);
  });
}

/** Regular files under the device folder (not .burrow/), as [path, size, mtimeMs], without following a symlink. */
function listHoldings(deviceDir: string): Array<[string, number, number]> {
  const a = anchoredAt(deviceDir);
  const out: Array<[string, number, number]> = [];
  const stack = [''];
  while (stack.length) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = a.readdir(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (dir === '' && (n === '.burrow' || n === '.burrow-sync')) continue;
      const rel = dir === '' ? n : `${dir}/${n}`;
      let st: fs.Stats | undefined;
      try {
        st = a.lstat(rel);
      } catch {
        continue;
      }
      if (!st) continue;
      if (st.isDirectory()) stack.push(rel);
      else if (st.isFile()) out.push([rel, st.size, Math.round(st.mtimeMs)]);
    }
  }
  return out.sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

/** One file of the device folder, with single byte ranges (so a cut download resumes) and an ETag for If-Range. */
async function serveDeviceFile(req: FastifyRequest, reply: FastifyReply, deviceDir: string): Promise<FastifyReply> {
  let rel: string;
  try {
    rel = normaliseRelPath(decodeURIComponent(String((req.params as { '*'?: string })['*'] ?? '')));
  } catch (err) {
    return reply.code(400).send({ error: 'BAD_PATH', message: (err as Error).message });
  }
  if (rel === '' || rel === '.burrow' || rel.startsWith('.burrow/')) return reply.code(404).send({ error: 'NOT_ON_DEVICE', message: 'Nothing to download there.' });
  let fd: number;
  try {
    fd = anchoredAt(deviceDir).openFile(rel, C.O_RDONLY);
  } catch {
    return reply.code(404).send({ error: 'NOT_ON_DEVICE', message: `${rel} is not linked to this device (any more).` });
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    return reply.code(404).send({ error: 'NOT_A_FILE', message: `${rel} is a folder.` });
  }
  const etag = `"${st.ino.toString(36)}-${st.size.toString(36)}-${Math.round(st.mtimeMs).toString(36)}"`;
  reply.header('ETag', etag).header('Accept-Ranges', 'bytes').header('Cache-Control', 'no-store').type('application/octet-stream');
  let start = 0;
  let end = st.size - 1;
  const rangeHeader = req.headers.range;
  const ifRange = req.headers['if-range'];
  if (rangeHeader && (ifRange === undefined || ifRange === etag) && st.size > 0) {
    const r = parseRange(st.size, rangeHeader, { combine: true });
    if (r === -1) {
      fs.closeSync(fd);
      return reply.code(416).header('Content-Range', `bytes */${st.size}`).send({ error: 'BAD_RANGE', message: `The range ${rangeHeader} lies outside the file (${st.size} bytes).` });
    }
    if (r !== -2 && r.type === 'bytes' && r.length === 1) {
      start = r[0]!.start;
      end = r[0]!.end;
      reply.code(206).header('Content-Range', `bytes ${start}-${end}/${st.size}`);
    }
  }
  reply.header('Content-Length', String(Math.max(0, end - start + 1)));
  if (st.size === 0 || req.method === 'HEAD') {
    fs.closeSync(fd);
    return reply.send('');
  }
  return reply.send(fs.createReadStream('', { fd, start, end, autoClose: true, highWaterMark: 1 << 20 }));
}
