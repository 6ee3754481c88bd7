import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import cookie from '@fastify/cookie';
import session from '@fastify/session';
import csrf from '@fastify/csrf-protection';
import rateLimit from '@fastify/rate-limit';
import { allowedHostnames, hostnameOf } from './hosts.js';
import { isDeviceAreaPath } from './device-area.js';

declare module 'fastify' {
  interface Session {
    owner?: boolean;
    _csrf?: string;
  }
  interface FastifyRequest {
    /** How this request proved it comes from the owner: the API token, or a login session. */
    owner?: 'token' | 'session';
  }
}

export interface SecurityOptions {
  bindHost: string;
  allowedHosts: string[];
  tls: boolean;
  apiToken: string;
}

/** Paths anyone may fetch: liveness, the login page and what it loads, the login itself. */
export const PUBLIC_PATHS = new Set(['/api/health', '/login', '/api/login', '/admin/login.js', '/admin/admin.css']);
// Helmet insists on a default-src; this header must not override each page's own script policy.
const NO_DEFAULT_SRC = (helmet as unknown as { contentSecurityPolicy: { dangerouslyDisableDefaultSrc: unknown } }).contentSecurityPolicy.dangerouslyDisableDefaultSrc as never;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
// Sec-Fetch-Site a browser sends with a request the NAS's own pages made (or the user typed).
const OWN_PAGE = new Set(['same-origin', 'none']);

function tokenMatches(given: string, token: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(token).digest();
  return crypto.timingSafeEqual(a, b);
}

function isPage(req: FastifyRequest, path: string): boolean {
  if (req.method !== 'GET' || path.startsWith('/api/')) return false;
  return path === '/' || path === '/catalogue' || path.endsWith('/') || path.endsWith('.html') || String(req.headers.accept ?? '').includes('text/html');
}

/**
 * Who may talk to the NAS. Installed on the root instance before any route, in this order:
 * Host check (421), security headers, cookie session, CSRF tokens, then the owner check: every
 * route but PUBLIC_PATHS needs `Authorization: Bearer <.burrow/api-token>` or a login session.
 * A session counts only for requests the NAS's own pages send (Sec-Fetch-Site), and a
 * state-changing one also needs the CSRF token (X-CSRF-Token), body or no body.
 */
export async function installSecurity(app: FastifyInstance, o: SecurityOptions): Promise<void> {
  const hosts = allowedHostnames(o.bindHost, o.allowedHosts);
  app.addHook('onRequest', async (req, reply) => {
    const h = hostnameOf(req.headers.host);
    if (h === undefined || !hosts.has(h)) {
      return reply.code(421).header('connection', 'close').send({ error: 'BAD_HOST', message: `This NAS does not answer to the name ${JSON.stringify(req.headers.host ?? '')}.`, hint: 'Use its configured address, or add the name to http.allowedHosts.' });
    }
  });

  await app.register(helmet, {
    // Each page carries its own script policy (the catalogue inlines its code); the header adds
    // what only a header can: no framing anywhere (clickjacking), no plugins, no foreign forms.
    contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': NO_DEFAULT_SRC, 'frame-ancestors': ["'none'"], 'object-src': ["'none'"], 'base-uri': ["'self'"], 'form-action': ["'self'"] } },
    frameguard: { action: 'deny' },
    // A self-signed certificate must stay replaceable; browsers ignore HSTS on IPs anyway.
    strictTransportSecurity: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(cookie);
  await app.register(session, {
    // Sessions live in memory: a restart logs the owner out, and nothing about them is on disk.
    secret: crypto.randomBytes(32).toString('base64url'),
    cookieName: o.tls ? '__Host-burrow' : 'burrow',
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'strict', secure: o.tls, path: '/', maxAge: 12 * 3600 * 1000 },
  });
  await app.register(csrf, { sessionPlugin: '@fastify/session', getToken: (req) => req.headers['x-csrf-token'] as string | undefined });
  await app.register(rateLimit, { global: false });

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (PUBLIC_PATHS.has(path)) return;
    // The web app of browser devices checks its own device credential (routes/device-app.ts);
    // neither the owner's session nor the API token acts there, and a device credential is
    // never looked at anywhere else, so it can never reach an owner route.
    if (isDeviceAreaPath(path)) return;
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (m && tokenMatches(m[1]!, o.apiToken)) {
        req.owner = 'token';
        return;
      }
      return refuse(reply, 401, 'BAD_TOKEN', 'The bearer token is not this NAS\'s API token.', 'Send the contents of .burrow/api-token as "Authorization: Bearer <token>".');
    }
    const site = req.headers['sec-fetch-site'];
    if (req.session.get('owner') === true && (site === undefined || OWN_PAGE.has(String(site)))) {
      if (!SAFE_METHODS.has(req.method)) {
        let passed = false;
        app.csrfProtection.call(app, req, reply, () => (passed = true));
        if (!passed) return reply;
      }
      req.owner = 'session';
      return;
    }
    if (isPage(req, path)) return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
    return refuse(reply, 401, 'UNAUTHENTICATED', 'Log in first (admin password), or send the API token.', 'Browser: open /login. CLI and scripts: "Authorization: Bearer <contents of .burrow/api-token>".');
  });
}

function refuse(reply: FastifyReply, status: number, code: string, message: string, hint: string): FastifyReply {
  return reply.code(status).send({ error: code, message, hint });
}
