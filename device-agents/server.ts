import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { Type, type Static } from '@sinclair/typebox';
import type { RequestBook } from './requests.js';
import { AGENT_PAGE_SCRIPT } from './page-script.js';
import { resolveInside } from '../server/src/fsutil/safe-path.js';
import { helpPage, HELP_PAGE_CSP } from '../server/src/util/help-page.js';

/**
 * The agent's local web server, on 127.0.0.1 only. It serves the synced catalogue at
 * /catalogue/ and the device's files at /files/ (so the page's ../files/<path> links open
 * local copies), and takes the page's actions.
 *
 * Guard against other web pages (CSRF, DNS rebinding, framing, file:// pages): the Host must be
 * this loopback address; no answer carries a CORS grant (not even to the origin "null" of
 * downloaded HTML files and sandboxed frames), so no other page can read anything from here;
 * every answer forbids framing; a request that changes anything needs the X-Burrow-Token
 * header (a custom header that no cross-site form or simple request can carry) and an Origin
 * that is absent or this server's own.
 *
 * The token reaches only a page this server served: each load of catalogue.html carries a
 * fresh one-time nonce (in the script tag that loads /agent.js?nonce=…), and /agent.js hands
 * out the token only for a nonce it issued in the last minute. Another web page cannot read
 * the HTML (no CORS), so it never has a nonce. This does not keep the token from a program on
 * this computer: anything that can read the agent's folder (.burrow-agent/token) or fetch
 * catalogue.html itself gets it, as it can read files/ anyway. The token is kept across
 * restarts, so an open page keeps working.
 */
export interface AgentServerOptions {
  port: number;
  catalogueDir: string;
  filesDir: string;
  device: string;
  token: string;
  requests: RequestBook;
  /** Append a request to the worklist and push it to the NAS. */
  submit(item: { id: string; device: string; action: string; path: string; args: Record<string, unknown>; confirm: boolean }): Promise<void>;
  status(): unknown;
  /** Changes whenever the synced catalogue data changes. */
  version(): string;
  /** Which of these paths (relative to files/) are not complete on this device yet. */
  missing(paths: string[]): Promise<Array<{ path: string; info: string }>>;
}

/** A nonce opens /agent.js once, within this time of the page load that carried it. */
const NONCE_TTL_MS = 60_000;
const MAX_NONCES = 256;

const LocalBody = Type.Object({ paths: Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 1000 }) }, { additionalProperties: false });

const RequestBody = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{7,63}$' }),
    device: Type.String({ maxLength: 64 }),
    action: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' }),
    path: Type.String({ maxLength: 4096 }),
    args: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    confirm: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
type RequestBodyT = Static<typeof RequestBody>;

function refuse(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message }, message });
}

function tokenMatches(given: unknown, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export interface RunningAgentServer {
  app: FastifyInstance;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Build the server and listen on 127.0.0.1:<port> (0 picks a free port). */
export async function startAgentServer(o: AgentServerOptions): Promise<RunningAgentServer> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  let port = o.port;
  const origins = (): string[] => [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`];
  const hosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];

  app.addHook('onRequest', async (req, reply) => {
    // DNS rebinding: a foreign name resolving to 127.0.0.1 still sends its own Host.
    if (!hosts().includes(String(req.headers.host ?? ''))) return refuse(reply, 421, 'BAD_HOST', 'This agent answers only on its loopback address.');
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Cache-Control', 'no-store');
    // No page of this agent may be framed: a framed catalogue could be clicked through
    // ([get], then its confirm button) by the page around it.
    reply.header('Content-Security-Policy', "frame-ancestors 'none'");
    reply.header('X-Frame-Options', 'DENY');
    // Deliberately no Access-Control-Allow-Origin anywhere, not even for "null" (a catalogue or
    // any other HTML file opened from disk, a sandboxed frame): such pages may load /agent.js's
    // notice as a script, but can read nothing from this server.
  });

  // Results the NAS left for this device (a share's read-only secret) reach only the page, through /api/requests/:id.
  app.addHook('onRequest', async (req, reply) => {
    let p = req.url.split('?')[0]!;
    try {
      p = decodeURIComponent(p);
    } catch {
      /* left as sent: the static server refuses it too */
    }
    if (p.replace(/\/{2,}/g, '/').startsWith('/files/.burrow/results')) return refuse(reply, 404, 'NOT_FOUND', 'Nothing here.');
  });

  const guard = (req: FastifyRequest, reply: FastifyReply, write: boolean): boolean => {
    const origin = req.headers.origin;
    if (origin !== undefined && !origins().includes(origin)) {
      const from = origin === 'null' ? 'a page opened from a file' : origin;
      refuse(reply, 403, 'BAD_ORIGIN', `The agent takes actions only from the catalogue it serves, not from ${from}: open ${origins()[0]}/ in this browser to act.`);
      return false;
    }
    if (!tokenMatches(req.headers['x-burrow-token'], o.token)) {
      refuse(reply, 403, 'BAD_TOKEN', `This needs the agent's token, which only the page served at ${origins()[0]}/ holds.`);
      return false;
    }
    if (write && !String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      refuse(reply, 415, 'BAD_CONTENT_TYPE', 'Send JSON (Content-Type: application/json).');
      return false;
    }
    return true;
  };

  await app.register(fastifyStatic, { root: o.catalogueDir, prefix: '/catalogue/', decorateReply: false, dotfiles: 'deny', cacheControl: false, etag: false, lastModified: false });
  await app.register(fastifyStatic, { root: o.filesDir, prefix: '/files/', decorateReply: false, dotfiles: 'allow', cacheControl: false, etag: false, lastModified: false });

  app.get('/', async (_req, reply) => reply.redirect('/catalogue/catalogue.html'));

  // One-time nonces of the catalogue pages served lately: the key to the token (see above).
  // Each keeps the catalogue version of its page's moment (see servePage).
  const nonces = new Map<string, { until: number; version: string }>();
  const issueNonce = (version: string): string => {
    const now = Date.now();
    for (const [n, v] of nonces) if (v.until < now || nonces.size >= MAX_NONCES) nonces.delete(n);
    const n = crypto.randomBytes(18).toString('base64url');
    nonces.set(n, { until: now + NONCE_TTL_MS, version });
    return n;
  };
  /** The page's catalogue version if the nonce is good (once, in time), else null. */
  const takeNonce = (n: unknown): string | null => {
    if (typeof n !== 'string') return null;
    const v = nonces.get(n);
    if (!v) return null;
    nonces.delete(n);
    return v.until >= Date.now() ? v.version : null;
  };

  const servePage = async (_req: FastifyRequest, reply: FastifyReply) => {
    const version = o.version();
    let html: string;
    try {
      html = await fs.promises.readFile(path.join(o.catalogueDir, 'catalogue.html'), 'utf8');
    } catch {
      return refuse(reply, 503, 'NO_CATALOGUE', 'The catalogue has not arrived from the NAS yet; reload in a moment.');
    }
    // The version is taken before the page can load any data: /agent.js comes after the data
    // scripts, and a catalogue completed in between used to give the page the new version with
    // the old rows, so it never reloaded (the e2e test's rows missing under load).
    const tag = `<script src="/agent.js?nonce=${issueNonce(version)}"></script>`;
    const at = html.lastIndexOf('</body>');
    return reply.type('text/html; charset=utf-8').send(at < 0 ? html + tag : html.slice(0, at) + tag + '\n' + html.slice(at));
  };
  app.get('/catalogue/catalogue.html', servePage);
  app.get('/catalogue/', servePage);

  app.get('/api/health', async () => ({ ok: true }));

  app.get<{ Querystring: { nonce?: string } }>('/agent.js', async (req, reply) => {
    const site = req.headers['sec-fetch-site'];
    const crossSite = site !== undefined && site !== 'same-origin' && site !== 'none';
    const pageVersion = crossSite ? null : takeNonce(req.query.nonce);
    if (pageVersion === null) {
      // No token without the nonce of a page served here; a catalogue opened from a file gets a notice saying where to act.
      const notice = `Browsing from a file. To act ([get], [delete], …), open ${origins()[0]}/ — the Burrow agent on this device serves this catalogue there with working buttons.`;
      return reply
        .code(200)
        .type('text/javascript; charset=utf-8')
        .send(`(function(){var a=document.getElementById('agent');if(a&&location.protocol==='file:'){a.textContent=${JSON.stringify(notice)};a.hidden=false;}})();\n`);
    }
    const cfg = JSON.stringify({ token: o.token, device: o.device, url: origins()[0] + '/', version: pageVersion });
    return reply.type('text/javascript; charset=utf-8').send(`window.BURROW_AGENT=${cfg};\n${AGENT_PAGE_SCRIPT}`);
  });

  // The guard runs before body validation, so a foreign page learns nothing from error details.
  const writeGuard = { preValidation: async (req: FastifyRequest, reply: FastifyReply) => (guard(req, reply, true) ? undefined : reply) };

  app.post<{ Body: RequestBodyT }>('/api/requests', { schema: { body: RequestBody }, ...writeGuard }, async (req, reply) => {
    const b = req.body;
    if (b.device !== '' && b.device !== o.device) return refuse(reply, 400, 'WRONG_DEVICE', `This agent is the device "${o.device}", not "${b.device}".`);
    if (b.path.includes('\0')) return refuse(reply, 400, 'BAD_PATH', 'The path contains a NUL byte.');
    if (JSON.stringify(b.args ?? {}).length > 16 * 1024) return refuse(reply, 400, 'BAD_ARGS', 'The request arguments are too large.');
    if (!o.requests.has(b.id)) {
      try {
        await o.submit({ id: b.id, device: o.device, action: b.action, path: b.path, args: b.args ?? {}, confirm: b.confirm === true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        return refuse(reply, 507, 'DISK_FULL', `This device's disk is full, so the request was not saved (${(err as Error).message}). Free some space, then click again.`);
      }
    }
    return reply.code(202).send(o.requests.state(b.id));
  });

  app.get<{ Params: { id: string } }>('/api/requests/:id', async (req, reply) => {
    if (!guard(req, reply, false)) return reply;
    const s = o.requests.state(req.params.id);
    if (!s) return refuse(reply, 404, 'UNKNOWN_REQUEST', `No request ${req.params.id} was made from this device.`);
    return s;
  });

  app.get('/api/status', async (req, reply) => {
    if (!guard(req, reply, false)) return reply;
    return o.status();
  });

  app.post<{ Body: Static<typeof LocalBody> }>('/api/local', { schema: { body: LocalBody }, ...writeGuard }, async (req) => {
    return { missing: await o.missing(req.body.paths) };
  });

  app.get('/api/version', async (req, reply) => {
    if (!guard(req, reply, false)) return reply;
    return { version: o.version() };
  });

  // [open] of a folder, or of something not on this device yet: a page that says what is there and what to do.
  app.setNotFoundHandler(async (req, reply) => {
    const url = req.url.split('?')[0]!;
    if (!url.startsWith('/files/')) return refuse(reply, 404, 'NOT_FOUND', `Nothing at ${url}.`);
    let rel: string;
    try {
      rel = decodeURIComponent(url.slice('/files/'.length)).replace(/\/+$/, '');
    } catch {
      return refuse(reply, 400, 'BAD_PATH', 'The address is not a valid path.');
    }
    const html = (code: number, body: string) => reply.code(code).type('text/html; charset=utf-8').header('Content-Security-Policy', HELP_PAGE_CSP).send(body);
    let abs: string;
    try {
      abs = rel === '' ? o.filesDir : resolveInside(o.filesDir, rel).abs;
    } catch {
      return html(404, helpPage('Not a path of this store', [`${rel} is not a path Burrow can open.`]));
    }
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
      const names = fs
        .readdirSync(abs, { withFileTypes: true })
        .filter((d) => !d.name.startsWith('.burrow') && (d.isFile() || d.isDirectory()))
        .sort((a, b) => (a.isDirectory() === b.isDirectory() ? (a.name < b.name ? -1 : 1) : a.isDirectory() ? -1 : 1));
      const href = (n: string, dir: boolean) => '/files/' + [...(rel ? rel.split('/') : []), n].map(encodeURIComponent).join('/') + (dir ? '/' : '');
      return html(
        200,
        helpPage(
          `${rel || 'files'}/ on ${o.device}`,
          [names.length ? `What this device holds of ${rel || 'the store'}/ (${names.length} ${names.length === 1 ? 'entry' : 'entries'}):` : `${rel || 'files'}/ is on this device but holds nothing yet; files you [get] appear here as they arrive.`],
          names.map((d) => ({ href: href(d.name, d.isDirectory()), text: d.name + (d.isDirectory() ? '/' : '') })),
        ),
      );
    }
    return html(
      404,
      helpPage(`${rel} is not on ${o.device} yet`, [
        `${rel} is not on this device (${o.device}): [open] opens the copy on this device.`,
        'In the catalogue, use [get] on it to bring it here; once it has arrived, [open] turns bold and opens it. If you just asked for it, it is still syncing: try again in a moment.',
      ]),
    );
  });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    void refuse(reply, status, status === 500 ? 'AGENT_ERROR' : 'BAD_REQUEST', err.message);
  });

  await app.listen({ host: '127.0.0.1', port: o.port });
  const a = app.server.address();
  if (a && typeof a === 'object') port = a.port;
  return { app, port, url: `${origins()[0]}/`, close: () => app.close() };
}

/** The token, made once per agent root and kept (0600) so open pages survive a restart. */
export function loadOrCreateToken(file: string): string {
  try {
    const t = fs.readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9_-]{32,}$/.test(t)) return t;
  } catch {
    /* made below */
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const t = crypto.randomBytes(24).toString('base64url');
  fs.writeFileSync(file, t + '\n', { mode: 0o600 });
  return t;
}
